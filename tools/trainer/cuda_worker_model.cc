// The GPU WorkerModel (--comm=nccl): the CUDA training plan, a CUDA evaluation plan over its
// device state, and the NCCL training step as its algorithm. Built only under --config=cuda.
#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "comm/dpsgd.h"
#include "comm/nccl_communicator.h"
#include "core/status.h"
#include "cuda_runtime_api.h"
#include "graph/cuda/cuda_compiler.h"
#include "graph/cuda/nccl_training_step.h"
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

  ParameterStore& store() override { return gpu_.train->host_store(); }
  Tensor& input() override { return input_; }
  Tensor& labels() override { return labels_; }
  absl::Status Run(const DropoutKey& key) override {
    cuda::CudaPlan& plan = *gpu_.train;
    RETURN_IF_ERROR(plan.SetBatch(std::as_const(input_).values<float>(),
                                  std::as_const(labels_).values<int32_t>()));
    RETURN_IF_ERROR(plan.Run(key));
    // The GPU plan has the loss only when the whole step is done.
    return loss_ready_ ? loss_ready_(plan.loss()) : absl::OkStatus();
  }
  float loss() const override { return gpu_.train->loss(); }
  int64_t correct() const override { return gpu_.train->correct(); }
  int num_buckets() const override { return gpu_.train->num_buckets(); }
  void SetLossReadyCallback(std::function<absl::Status(float)> callback) override {
    loss_ready_ = std::move(callback);
  }
  void SetBucketReadyCallback(std::function<absl::Status(int)> callback) override {
    gpu_.train->SetBucketReadyCallback(std::move(callback));
  }
  void SetBucketNeededCallback(std::function<absl::Status(int)> callback) override {
    gpu_.train->SetBucketNeededCallback(std::move(callback));
  }
  absl::Status LocalSgd(const cpu::SgdConfig& sgd) override { return gpu_.train->SgdStep(sgd); }
  absl::StatusOr<double> Evaluate(const Dataset& test) override {
    cuda::CudaPlan& plan = *eval_;
    return TestAccuracy(test, eval_input_, eval_labels_, classes_,
                        [this, &plan]() -> absl::StatusOr<std::span<const float>> {
                          RETURN_IF_ERROR(plan.SetBatch(std::as_const(eval_input_).values<float>(),
                                                        std::as_const(eval_labels_).values<int32_t>()));
                          RETURN_IF_ERROR(plan.Run());
                          RETURN_IF_ERROR(plan.CopyLogits(logits_));
                          return std::span<const float>(logits_);
                        });
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
    if (name == "allreduce") {
      ASSIGN_OR_RETURN(auto step,
                       cuda::NcclTrainingStep::AllReduce(plan, *device_comm, host_context.options));
      return std::unique_ptr<Algorithm>(std::move(step));
    }
    if (name != "dpsgd" && name != "matcha" && name != "aldsgd") {
      return absl::UnimplementedError(
          absl::StrCat("--algo=", name,
                       " runs on the CPU only so far; on the GPU: allreduce, dpsgd, matcha, aldsgd"));
    }
    const Topology* topology = host_context.topology;
    if (topology == nullptr || host_context.comm == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " on the GPU: needs a topology and the host communicator"));
    }
    if (name != "aldsgd") {
      RETURN_IF_ERROR(Dpsgd::RequireScheme(
          host_context, name == "dpsgd" ? Scheme::kStatic : Scheme::kMatcha, name.c_str()));
    }
    int max_degree = 0;
    for (int copy = 0; copy < topology->num_copies(); ++copy) {
      max_degree = std::max(max_degree, topology->graph(copy).max_degree());
    }
    const int rank = device_comm->rank();
    cuda::NeighborhoodSource neighbors = [topology, rank](int64_t step) {
      return topology->NeighborhoodAt(step, rank);
    };
    std::unique_ptr<cuda::NcclTrainingStep> step;
    if (name == "aldsgd") {
      ASSIGN_OR_RETURN(step, cuda::NcclTrainingStep::Aldsgd(plan, *device_comm, *host_context.comm,
                                                            std::move(neighbors), max_degree,
                                                            host_context.options));
    } else {
      ASSIGN_OR_RETURN(step, cuda::NcclTrainingStep::Decentralized(
                                 plan, *device_comm, std::move(neighbors), max_degree,
                                 host_context.options));
    }
    return std::unique_ptr<Algorithm>(std::move(step));
  }

 private:
  cuda::CudaCompiledModel gpu_;
  std::unique_ptr<cuda::CudaPlan> eval_;  // reads gpu_.train's device state
  Tensor input_, labels_;                 // the training batch, on the host
  Tensor eval_input_, eval_labels_;       // the evaluation batch, on the host
  int64_t classes_;
  std::vector<float> logits_;             // the evaluation batch's logits, on the host
  std::function<absl::Status(float)> loss_ready_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerModel>> CreateCudaWorkerModel(const ModelGraph& train_graph,
                                                                   const ModelGraph& eval_graph,
                                                                   const CompileOptions& options) {
  ASSIGN_OR_RETURN(cuda::CudaCompiledModel gpu, cuda::CompileModelCuda(train_graph, options));
  CompileOptions eval_options = options;
  eval_options.training = false;
  eval_options.blocked_layouts = false;  // the GPU keeps NCHW
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
  return std::unique_ptr<WorkerModel>(new CudaWorkerModel(
      std::move(gpu), std::move(eval_plan), std::move(input), std::move(labels),
      std::move(eval_input), std::move(eval_labels), classes));
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
