// CompileCuda: device check, streams and handles, flat parameter buffers, then the lowering.
#include "graph/cuda/cuda_compiler.h"

#include <new>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "graph/cuda/cuda_lowering.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {

// The CUDA lowerings of every op but casts and the tensor-core set read and write fp32 only.
absl::Status CheckBf16Placement(const ModelGraph& graph) {
  for (const Node& node : graph.nodes) {
    if (node.type == OpType::kCast || RunsInBf16(node.type, Bf16Kernels::kTensorCores)) continue;
    for (const std::vector<ValueId>* list : {&node.inputs, &node.outputs}) {
      for (ValueId v : *list) {
        if (v != kNoValue && graph.values[v].dtype == DType::kBF16) {
          return absl::InvalidArgumentError(absl::StrCat(
              "compile for CUDA: ", node.name, " reads or writes bf16 value '",
              graph.values[v].name,
              "'; on the GPU only convolutions and linear layers run in bf16 (prepare the "
              "graph with CudaCompileOptions)"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<OwnedStream> MakeStream() {
  cudaStream_t stream = nullptr;
  // A blocking stream (default flags): it stays ordered with the synchronous cudaMemcpy calls
  // of DeviceBuffer and the legacy default stream, which some callers still use.
  RETURN_IF_CUDA_ERROR(cudaStreamCreate(&stream));
  return OwnedStream(stream);
}

}  // namespace

CompileOptions CudaCompileOptions(CompileOptions options) {
  options.blocked_layouts = false;
  options.bf16_kernels = Bf16Kernels::kTensorCores;
  return options;
}

// Friend of CudaPlan (declared there): fills the runtime resources the lowering binds to.
class CudaPlanFactory {
 public:
  // A training plan: streams, handles, bucket events, its own flat state buffers, results.
  static absl::StatusOr<std::unique_ptr<CudaPlan>> Make(const TrainingGraph& graph,
                                                        const CompileOptions& options);
  // An evaluation plan over `train`'s state: streams, handles and results only.
  static absl::StatusOr<std::unique_ptr<CudaPlan>> MakeEvaluation(CudaPlan& train);

 private:
  static absl::Status MakeStreams(CudaPlan& plan);
  static absl::Status MakeResults(CudaPlan& plan);
};

absl::Status CudaPlanFactory::MakeStreams(CudaPlan& plan) {
  ASSIGN_OR_RETURN(plan.compute_stream_, MakeStream());
  ASSIGN_OR_RETURN(plan.comm_stream_, MakeStream());
  ASSIGN_OR_RETURN(plan.handles_, CudaHandles::Create(plan.compute_stream_.get()));
  return absl::OkStatus();
}

// The step's results: one device block and its pinned host mirror, so the end-of-step copy is a
// real asynchronous DMA.
absl::Status CudaPlanFactory::MakeResults(CudaPlan& plan) {
  cudaStream_t stream = plan.compute_stream_.get();
  ASSIGN_OR_RETURN(plan.results_,
                   DeviceBuffer<char>::Create(static_cast<int64_t>(sizeof(StepResults))));
  plan.device_results_ = reinterpret_cast<StepResults*>(plan.results_.data());
  void* host = nullptr;
  RETURN_IF_CUDA_ERROR(cudaMallocHost(&host, sizeof(StepResults)));
  plan.host_results_.reset(new (host) StepResults());
  plan.device_allocations_ += 2;
  RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(plan.device_results_, plan.host_results_.get(),
                                       sizeof(StepResults), cudaMemcpyHostToDevice, stream));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CudaPlan>> CudaPlanFactory::Make(const TrainingGraph& graph,
                                                                const CompileOptions& options) {
  std::unique_ptr<CudaPlan> plan(new CudaPlan());
  ASSIGN_OR_RETURN(plan->store_, ParameterStore::Create(graph, options.bucket_cap_bytes,
                                                        options.min_buckets));
  RETURN_IF_ERROR(MakeStreams(*plan));
  for (size_t b = 0; b < plan->store_->buckets().size(); ++b) {
    cudaEvent_t event = nullptr;
    // No timing: recording and waiting on such events is the cheapest kind.
    RETURN_IF_CUDA_ERROR(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    plan->bucket_events_.emplace_back(event);
  }

  const int64_t count = static_cast<int64_t>(plan->store_->size());
  ASSIGN_OR_RETURN(plan->parameters_, DeviceBuffer<float>::Create(count));
  ASSIGN_OR_RETURN(plan->gradients_, DeviceBuffer<float>::Create(count));
  ASSIGN_OR_RETURN(plan->momentum_, DeviceBuffer<float>::Create(count));
  size_t running = 0;
  for (ValueId r : plan->store_->running_stats()) {
    plan->running_layout_.push_back({r, running});
    running += static_cast<size_t>(graph.graph.value(r).shape.num_elements());
  }
  ASSIGN_OR_RETURN(plan->running_, DeviceBuffer<float>::Create(static_cast<int64_t>(running)));
  plan->device_allocations_ += (count > 0 ? 3 : 0) + (running > 0 ? 1 : 0);
  // Defined contents before UploadState: zeros.
  cudaStream_t stream = plan->compute_stream_.get();
  for (DeviceBuffer<float>* buffer :
       {&plan->parameters_, &plan->gradients_, &plan->momentum_, &plan->running_}) {
    if (buffer->size() == 0) continue;
    RETURN_IF_CUDA_ERROR(cudaMemsetAsync(buffer->data(), 0, buffer->bytes(), stream));
  }
  RETURN_IF_ERROR(MakeResults(*plan));
  return plan;
}

absl::StatusOr<std::unique_ptr<CudaPlan>> CudaPlanFactory::MakeEvaluation(CudaPlan& train) {
  std::unique_ptr<CudaPlan> plan(new CudaPlan());
  plan->shared_ = &train;
  RETURN_IF_ERROR(MakeStreams(*plan));
  RETURN_IF_ERROR(MakeResults(*plan));
  return plan;
}

absl::StatusOr<std::unique_ptr<CudaPlan>> CompileCuda(const TrainingGraph& graph,
                                                      const CompileOptions& options) {
  if (absl::Status available = CudaDeviceAvailable(); !available.ok()) {
    return absl::Status(available.code(),
                        absl::StrCat("compile for CUDA: ", available.message()));
  }
  if (!options.training) {
    return absl::UnimplementedError(
        "compile for CUDA: an evaluation plan reads a training plan's parameters: use "
        "CompileCudaEval");
  }
  RETURN_IF_ERROR(CheckBf16Placement(graph.graph));
  ASSIGN_OR_RETURN(std::unique_ptr<CudaPlan> plan, CudaPlanFactory::Make(graph, options));
  CudaPlanBuilder builder(graph, std::move(plan), options.training);
  RETURN_IF_ERROR(builder.LowerAll());
  return builder.Finish();
}

absl::StatusOr<std::unique_ptr<CudaPlan>> CompileCudaEval(const TrainingGraph& graph,
                                                          CudaPlan& train,
                                                          const CompileOptions& options) {
  if (options.training) {
    return absl::InvalidArgumentError("compile for CUDA: an evaluation plan needs training=false");
  }
  if (train.evaluation()) {
    return absl::InvalidArgumentError(
        "compile for CUDA: an evaluation plan must be compiled against a training plan");
  }
  // As Compile on the CPU: every parameter and running statistic must be the training plan's.
  RETURN_IF_ERROR(CheckStoreHolds(graph, train.host_store(), "compile for CUDA"));
  RETURN_IF_ERROR(CheckBf16Placement(graph.graph));
  ASSIGN_OR_RETURN(std::unique_ptr<CudaPlan> plan, CudaPlanFactory::MakeEvaluation(train));
  CudaPlanBuilder builder(graph, std::move(plan), /*training=*/false);
  RETURN_IF_ERROR(builder.LowerAll());
  return builder.Finish();
}

absl::StatusOr<CudaCompiledModel> CompileModelCuda(ModelGraph train_graph,
                                                   const CompileOptions& options) {
  const CompileOptions gpu = CudaCompileOptions(options);
  CudaCompiledModel model;
  ASSIGN_OR_RETURN(model.training_graph, PrepareGraph(std::move(train_graph), gpu));
  ASSIGN_OR_RETURN(model.train, CompileCuda(model.training_graph, gpu));
  return model;
}

}  // namespace ald::cuda
