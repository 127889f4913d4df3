// Compiling a training graph for one CUDA GPU: the GPU counterpart of Compile() in
// graph/compiler.h, on the same prepared TrainingGraph (NCHW everywhere, no blocked layouts).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "graph/autodiff.h"
#include "graph/compiler.h"
#include "graph/cuda/cuda_plan.h"

namespace ald::cuda {

// `options` as every CUDA compile takes them, PrepareGraph included: NCHW activations (no blocked
// layouts), and with --precision=bf16 only the convolutions and linear layers in bf16.
CompileOptions CudaCompileOptions(CompileOptions options);

// Lowers a prepared training graph to a CudaPlan on the current device. The plan's host
// ParameterStore has the CPU's layout and buckets (ParameterStore::Create with the options'
// bucket sizes); its values are not initialised: Initialize it and call UploadState. Without a
// usable device: Unavailable ("compile for CUDA: no CUDA device: ..."), before any other CUDA
// call. A bf16 value anywhere but at a convolution, a linear layer or a cast (a graph prepared
// without CudaCompileOptions) is InvalidArgument. Training plans only (options.training);
// evaluation plans come from CompileCudaEval.
absl::StatusOr<std::unique_ptr<CudaPlan>> CompileCuda(const TrainingGraph& graph,
                                                      const CompileOptions& options);

// An evaluation plan of a prepared inference graph (PrepareGraph with training=false) that reads
// `train`'s parameters and running statistics on the device (batch-norm in inference mode,
// dropout off); `train` must outlive it. The graph's parameters must be `train`'s (same ids,
// names and shapes): the evaluation graph of the same model.
absl::StatusOr<std::unique_ptr<CudaPlan>> CompileCudaEval(const TrainingGraph& graph,
                                                          CudaPlan& train,
                                                          const CompileOptions& options);

// PrepareGraph with CudaCompileOptions(options), then CompileCuda.
struct CudaCompiledModel {
  TrainingGraph training_graph;
  std::unique_ptr<CudaPlan> train;
};
absl::StatusOr<CudaCompiledModel> CompileModelCuda(ModelGraph train_graph,
                                                   const CompileOptions& options);

}  // namespace ald::cuda
