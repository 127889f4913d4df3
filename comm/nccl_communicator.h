// NCCL backend: the Communicator interface over CUDA device memory (one GPU per rank). Built
// only under --config=cuda.
//
// NCCL has no tags: sends and receives between a pair of ranks match in posting order, and a
// size mismatch cannot be detected (both are the caller's contract here, as in our algorithms,
// which post the same sequence on both sides). Isend/Irecv are queued and launched together
// in one ncclGroupStart/End on a dedicated stream at the first Test/Wait (or collective), so
// that a pair exchanging both ways cannot deadlock. Completion is a CUDA event, polled against
// the deadline; a communicator with work still stuck at destruction is aborted
// (ncclCommAbort), not destroyed, so that teardown cannot hang.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "comm/communicator.h"

namespace ald {

struct NcclOptions {
  CommOptions comm;
  int device = 0;  // the CUDA device of this rank
};

// OK when a CUDA device can be used here; otherwise why not (no driver, no device).
absl::Status CudaDeviceAvailable();

// A communicator over the ranks of `bootstrap` (a CPU communicator: MPI or inproc), which
// carries NCCL's unique id from rank 0 to the others.
absl::StatusOr<std::unique_ptr<Communicator>> CreateNcclCommunicator(Communicator& bootstrap,
                                                                    NcclOptions options = {});

}  // namespace ald
