#!/bin/bash
# Merges the ranks' Chrome traces (--trace=FILE writes FILE.rankN, one event per line, as
# Trace::WriteJson writes them; pid = rank) into one trace on stdout, for //tools:overlap, which
# rejects the result loudly if that one-event-per-line form ever changes.
#   tools/merge_traces.sh FILE.rank0 FILE.rank1 ... > merged.json
set -euo pipefail
awk 'BEGIN { print "{\"traceEvents\": [" }
     /^\{"ph":/ { sub(/,$/, ""); if (n++) printf(",\n"); printf("%s", $0) }
     END { print "\n]}" }' "$@"
