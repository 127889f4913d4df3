#!/bin/bash
# Writes a checkpoint with the C++ writer (write_test_checkpoint) and checks that PyTorch, through
# tools/read_checkpoint.py, reads the same tensor names, dtypes, shapes, values and checksums.
# Skips (exit 0, saying why) where Debian's /usr/bin/python3 cannot import torch.
set -euo pipefail
writer="$1"
reader="$2"
python=/usr/bin/python3

if ! why=$("$python" -c 'import torch' 2>&1); then
  echo "SKIPPED: $python cannot import torch: ${why##*$'\n'} (tools/setup.sh --peer installs it)"
  exit 0
fi

work="${TEST_TMPDIR:-$(mktemp -d)}"
"$writer" "$work/checkpoints" "$work/expected.json"
"$python" "$reader" "$work/checkpoints/checkpoint-7.safetensors" --compare "$work/expected.json"

# The comparison must be able to fail: one value changed by one bf16 step has to be caught.
"$python" - "$work/expected.json" "$work/altered.json" <<'PY'
import json, sys
expected = json.load(open(sys.argv[1]))
expected["tensors"]["fc/half"]["values"][2] *= 1 + 2 ** -7
json.dump(expected, open(sys.argv[2], "w"))
PY
if output=$("$python" "$reader" "$work/checkpoints/checkpoint-7.safetensors" \
    --compare "$work/altered.json" 2>&1); then
  echo "FAIL: an altered value was not detected"
  echo "$output"
  exit 1
fi
if [[ "$output" != *"MISMATCH: tensor 'fc/half' at [2]"* ]]; then
  echo "FAIL: the altered value was reported wrongly:"
  echo "$output"
  exit 1
fi
echo "PASS: PyTorch reads what the C++ writer wrote, and a changed value is caught"
