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

#include <cstddef>
#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "cuda_runtime_api.h"

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

// Stream-ordered NCCL work for the GPU training step (graph/cuda/nccl_training_step.h): enqueued
// on the caller's `stream`, after what is already there, and never waited for on the host, so
// that the exchange of one bucket overlaps the backward of the next on another stream. `nccl`
// must come from CreateNcclCommunicator (anything else is an InvalidArgument error).
struct NcclTransfer {
  bool send = false;
  int peer = 0;
  float* data = nullptr;  // device memory
  size_t count = 0;       // floats
};
// data <- the average of every rank's data (ncclAvg).
absl::Status EnqueueAllReduceAverage(Communicator& nccl, float* data, size_t count,
                                     cudaStream_t stream);
// The sends and receives as one NCCL group (a pair exchanging both ways cannot deadlock); peers
// must post matching transfers in the same order.
absl::Status EnqueueExchange(Communicator& nccl, std::span<const NcclTransfer> transfers,
                             cudaStream_t stream);

}  // namespace ald
