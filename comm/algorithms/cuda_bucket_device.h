// The GPU's BucketDevice (built only under --config=cuda): the buffers are device memory, and
// every kernel, all-reduce and neighbour exchange is enqueued on one stream (the plan's
// communication stream), in host call order, so that a rule's steps follow each other on the
// device without the host waiting. Updates match the CPU's bit for bit (ops/cuda/sgd.h,
// ops/cuda/mixing.h).
#pragma once

#include <memory>

#include "comm/algorithms/bucket_device.h"
#include "comm/communicator.h"
#include "cuda_runtime_api.h"

namespace ald {

// `nccl` (from CreateNcclCommunicator; not owned) carries the exchanges and collectives.
std::unique_ptr<BucketDevice> CreateCudaBucketDevice(Communicator& nccl, cudaStream_t stream);

}  // namespace ald
