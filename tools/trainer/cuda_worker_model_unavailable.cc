// Without --config=cuda there is no GPU model: --comm=nccl says how to get one.
#include "tools/trainer/worker_model.h"

namespace ald {
namespace {

absl::Status NeedsCudaBuild() {
  return absl::UnimplementedError(
      "--comm=nccl trains on CUDA GPUs and needs a build with --config=cuda (bazel run --config=cuda "
      "//tools:train -- ...)");
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerModel>> CreateCudaWorkerModel(const ModelGraph&,
                                                                   const ModelGraph&,
                                                                   const CompileOptions&) {
  return NeedsCudaBuild();
}

absl::StatusOr<std::unique_ptr<Communicator>> CreateDeviceCommunicator(Communicator&,
                                                                       const CommOptions&) {
  return NeedsCudaBuild();
}

}  // namespace ald
