// The GPU WorkerModel (--comm=nccl): the CUDA training plan, a CUDA evaluation plan over its
// device state, and the registry's algorithms on the GPU's BucketDevice (NCCL on the plan's
// communication stream). Built only under --config=cuda.
#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "comm/algorithms/bucket_device.h"
#include "comm/algorithms/cuda_bucket_device.h"
#include "comm/algorithms/registry.h"
#include "comm/nccl_communicator.h"
#include "core/status.h"
#include "cuda_runtime_api.h"
#include "graph/cuda/cuda_compiler.h"
#include "graph/cuda/cuda_step_plan.h"
#include "ops/cuda/cuda_status.h"
#include "tools/trainer/test_accuracy.h"
#include "tools/trainer/worker_model.h"

namespace ald {
namespace {

class CudaWorkerModel final : public WorkerModel {
 public:
  CudaWorkerModel(cuda::CudaCompiledModel gpu, std::unique_ptr<cuda::CudaPlan> eval,
                  Tensor input, Tensor labels, Tensor eval_input, Tensor eval_labels,
                  int64_t classes)
      : gpu_(std::move(gpu)),
        eval_(std::move(eval)),
        input_(std::move(input)),
        labels_(std::move(labels)),
        eval_input_(std::move(eval_input)),
        eval_labels_(std::move(eval_labels)),
        classes_(classes),
        logits_(static_cast<size_t>(eval_input_.shape()[0] * classes)) {}

  absl::Status Init() {
    cuda::CudaPlan& plan = *gpu_.train;
    ASSIGN_OR_RETURN(step_plan_, cuda::CudaStepPlan::Create(plan, [this, &plan] {
                       return plan.SetBatch(std::as_const(input_).values<float>(),
                                            std::as_const(labels_).values<int32_t>());
                     }));
    return absl::OkStatus();
  }

  ParameterStore& store() override { return gpu_.train->host_store(); }
  Tensor& input() override { return input_; }
  Tensor& labels() override { return labels_; }
  StepPlan& step_plan() override { return *step_plan_; }
  int64_t correct() const override { return gpu_.train->correct(); }
  absl::Status LocalSgd(const cpu::SgdConfig& sgd) override { return gpu_.train->SgdStep(sgd); }
  absl::StatusOr<EvalCounts> Evaluate(const Dataset& test, EvalShard shard) override {
    cuda::CudaPlan& plan = *eval_;
    return CountCorrectOnTest(
        test, eval_input_, eval_labels_, classes_,
        [this, &plan]() -> absl::StatusOr<std::span<const float>> {
          RETURN_IF_ERROR(plan.SetBatch(std::as_const(eval_input_).values<float>(),
                                        std::as_const(eval_labels_).values<int32_t>()));
          RETURN_IF_ERROR(plan.Run());
          RETURN_IF_ERROR(plan.CopyLogits(logits_));
          return std::span<const float>(logits_);
        },
        shard);
  }
  absl::Status SyncToHost() override { return gpu_.train->DownloadState(); }
  absl::Status SyncFromHost() override { return gpu_.train->UploadState(); }

  absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const std::string& name,
                                                             const AlgorithmContext& host_context,
                                                             Communicator* device_comm) override {
    if (device_comm == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(name, " on the GPU: no NCCL communicator"));
    }
    cuda::CudaPlan& plan = *gpu_.train;
    device_ = CreateCudaBucketDevice(*device_comm, plan.comm_stream());
    // The same rule as on the CPU, over the device's copies of the buffers.
    AlgorithmContext context = host_context;
    context.device = device_.get();
    const size_t n = plan.num_parameters();
    context.buffers = {std::span<float>(plan.parameters(), n),
                       std::span<float>(plan.gradients(), n), std::span<float>(plan.momentum(), n),
                       host_context.buffers.buckets};
    return ald::CreateAlgorithm(name, context);
  }

  private:
  cuda::CudaCompiledModel gpu_;
  std::unique_ptr<cuda::CudaPlan> eval_;  // reads gpu_.train's device state
  Tensor input_, labels_;                 // the training batch, on the host
  Tensor eval_input_, eval_labels_;       // the evaluation batch, on the host
  int64_t classes_;
  std::vector<float> logits_;             // the evaluation batch's logits, on the host
  std::unique_ptr<cuda::CudaStepPlan> step_plan_;  // uploads the batch, then runs gpu_.train
  std::unique_ptr<BucketDevice> device_;            // the algorithm's, once it is created
};

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerModel>> CreateCudaWorkerModel(const ModelGraph& train_graph,
                                                                   const ModelGraph& eval_graph,
                                                                   const CompileOptions& options) {
  ASSIGN_OR_RETURN(cuda::CudaCompiledModel gpu, cuda::CompileModelCuda(train_graph, options));
  CompileOptions eval_options = cuda::CudaCompileOptions(options);
  eval_options.training = false;
  ASSIGN_OR_RETURN(TrainingGraph eval, PrepareGraph(eval_graph, eval_options));
  ASSIGN_OR_RETURN(std::unique_ptr<cuda::CudaPlan> eval_plan,
                   cuda::CompileCudaEval(eval, *gpu.train, eval_options));
  auto host_tensor = [](const ModelGraph& graph, ValueId value) {
    const ValueInfo& info = graph.value(value);
    return Tensor::Create(info.shape, info.dtype);
  };
  ASSIGN_OR_RETURN(Tensor input, host_tensor(train_graph, train_graph.input));
  ASSIGN_OR_RETURN(Tensor labels, host_tensor(train_graph, train_graph.labels));
  ASSIGN_OR_RETURN(Tensor eval_input, host_tensor(eval_graph, eval_graph.input));
  ASSIGN_OR_RETURN(Tensor eval_labels, host_tensor(eval_graph, eval_graph.labels));
  const int64_t classes = eval_graph.value(eval_graph.logits).shape[1];
  auto model = std::make_unique<CudaWorkerModel>(std::move(gpu), std::move(eval_plan),
                                                 std::move(input), std::move(labels),
                                                 std::move(eval_input), std::move(eval_labels),
                                                 classes);
  RETURN_IF_ERROR(model->Init());
  return std::unique_ptr<WorkerModel>(std::move(model));
}

absl::StatusOr<std::unique_ptr<Communicator>> CreateDeviceCommunicator(Communicator& bootstrap,
                                                                       const CommOptions& options) {
  RETURN_IF_ERROR(CudaDeviceAvailable());
  int devices = 0;
  RETURN_IF_ERROR(cuda::CudaStatus(cudaGetDeviceCount(&devices), "cudaGetDeviceCount"));
  // Open MPI says which rank this is on its machine; elsewhere the global rank stands in.
  int local_rank = bootstrap.rank();
  if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK"); local != nullptr) {
    if (!absl::SimpleAtoi(local, &local_rank)) local_rank = bootstrap.rank();
  }
  NcclOptions nccl;
  nccl.comm = options;
  nccl.device = local_rank % devices;
  return CreateNcclCommunicator(bootstrap, nccl);
}

}  // namespace ald
