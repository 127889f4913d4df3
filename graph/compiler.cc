#include "graph/compiler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "graph/lowering.h"
#include "graph/memory_plan.h"
#include "graph/passes.h"

namespace ald {

absl::StatusOr<TrainingGraph> PrepareGraph(ModelGraph graph, const CompileOptions& options) {
  EliminateDeadNodes(graph);
  if (options.fuse) FuseRelu(graph);
  if (options.precision == Precision::kBF16) AssignBf16(graph, options.bf16_kernels);
  if (!options.training) return InferenceGraph(std::move(graph));
  return BuildTrainingGraph(std::move(graph));
}

absl::Status CheckStoreHolds(const TrainingGraph& graph, ParameterStore& store,
                             const char* what) {
  std::vector<ValueId> state = graph.graph.parameters;
  state.insert(state.end(), graph.graph.running_stats.begin(), graph.graph.running_stats.end());
  for (ValueId p : state) {
    if (!store.Holds(p) || store.name(p) != graph.graph.value(p).name ||
        store.View(p).shape() != graph.graph.value(p).shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": the parameter store does not hold '", graph.graph.value(p).name, "' ",
          graph.graph.value(p).shape.ToString(), " (was it built from another model?)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Plan>> Compile(const TrainingGraph& graph, ParameterStore& store,
                                              const CompileOptions& options) {
  RETURN_IF_ERROR(CheckStoreHolds(graph, store, "compile"));
  PlanBuilder builder(graph, store, options.training, options.blocked_layouts, options.precision);
  RETURN_IF_ERROR(builder.LowerAll());
  return builder.Finish();
}

absl::StatusOr<CompiledModel> CompileModel(ModelGraph train_graph, const ModelGraph* eval_graph,
                                           const CompileOptions& options) {
  CompiledModel model;
  ASSIGN_OR_RETURN(model.training_graph, PrepareGraph(std::move(train_graph), options));
  ASSIGN_OR_RETURN(model.store,
                   ParameterStore::Create(model.training_graph, options.bucket_cap_bytes,
                                          options.min_buckets));
  ASSIGN_OR_RETURN(model.train, Compile(model.training_graph, *model.store, options));
  if (eval_graph != nullptr) {
    CompileOptions eval_options = options;
    eval_options.training = false;
    ASSIGN_OR_RETURN(TrainingGraph eval, PrepareGraph(*eval_graph, eval_options));
    ASSIGN_OR_RETURN(model.eval, Compile(eval, *model.store, eval_options));
  }
  return model;
}

}  // namespace ald
