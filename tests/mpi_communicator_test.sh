#!/bin/bash
# Runs the MPI communicator tests (tests/mpi_worker.cc) on 4 ranks of this machine.
set -euo pipefail
worker="$1"
exec mpirun --allow-run-as-root --oversubscribe -np 4 --mca btl self,vader,tcp \
  "$worker" --scenario=tests --timeout=20
