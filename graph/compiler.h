// The compiler: graph passes, autodiff, lowering to oneDNN kernels, memory planning and binding.
// A model is compiled once; the resulting Plan runs every step.
#pragma once

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "graph/autodiff.h"
#include "graph/graph.h"
#include "graph/parameter_store.h"
#include "graph/plan.h"
#include "graph/precision_pass.h"

namespace ald {

struct CompileOptions {
  bool training = true;   // forward + backward (batch statistics), or inference only
  bool fuse = true;       // fold ReLUs into convolution, batch norm and the residual add
  bool blocked_layouts = true;  // keep activations in nChw16c between layers (layout_pass.h)
  size_t bucket_cap_bytes = size_t{25} << 20;  // communication bucket size, as PyTorch DDP
  // Split the parameters into at least this many buckets where the cap alone would not (a
  // 1 MiB ResNet-20 under a 25 MiB cap would be one bucket, and nothing would pipeline).
  size_t min_buckets = 1;
  // bf16: activations and their gradients in bf16, weights cast once per step (precision_pass.h).
  Precision precision = Precision::kF32;
  // Which ops run in bf16 when precision is bf16: the backend's (CUDA sets kTensorCores).
  Bf16Kernels bf16_kernels = Bf16Kernels::kOneDnn;
};

// Dead-code elimination, ReLU fusion, the precision pass (bf16 only) and, when training,
// autodiff.
absl::StatusOr<TrainingGraph> PrepareGraph(ModelGraph graph, const CompileOptions& options);

// OK when `store` holds every parameter and running statistic of `graph` with the same id, name
// and shape (a model built with another batch size qualifies); otherwise an error that starts
// with `what` and names the first that does not fit. Every backend's compile checks this.
absl::Status CheckStoreHolds(const TrainingGraph& graph, ParameterStore& store, const char* what);

// Lowers a prepared graph to kernels reading parameters from `store` (which must hold every
// parameter of the graph, with the same name and shape: a model built with another batch size
// shares the store of the training plan) and intermediates from a planned arena.
absl::StatusOr<std::unique_ptr<Plan>> Compile(const TrainingGraph& graph, ParameterStore& store,
                                              const CompileOptions& options);

// The usual pair for one worker: a training plan, an evaluation plan (possibly for another
// batch size) and the parameter store they share.
struct CompiledModel {
  TrainingGraph training_graph;
  std::unique_ptr<ParameterStore> store;
  std::unique_ptr<Plan> train;
  std::unique_ptr<Plan> eval;  // null when no evaluation graph was given
};
absl::StatusOr<CompiledModel> CompileModel(ModelGraph train_graph, const ModelGraph* eval_graph,
                                           const CompileOptions& options);

}  // namespace ald
