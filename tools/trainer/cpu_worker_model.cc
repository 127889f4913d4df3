// The CPU WorkerModel: the oneDNN training plan and the evaluation plan over one store.
#include "comm/algorithms/registry.h"
#include "core/status.h"
#include "tools/trainer/test_accuracy.h"
#include "tools/trainer/worker_model.h"

namespace ald {
namespace {

class CpuWorkerModel final : public WorkerModel {
 public:
  explicit CpuWorkerModel(CompiledModel model)
      : model_(std::move(model)), step_plan_(*model_.train) {}

  ParameterStore& store() override { return *model_.store; }
  Tensor& input() override { return model_.train->input(); }
  Tensor& labels() override { return model_.train->labels(); }
  StepPlan& step_plan() override { return step_plan_; }
  int64_t correct() const override { return model_.train->correct(); }
  absl::Status LocalSgd(const cpu::SgdConfig& sgd) override {
    return cpu::SgdStep(sgd, model_.store->parameters(), model_.store->gradients(),
                        model_.store->momentum());
  }
  absl::StatusOr<EvalCounts> Evaluate(const Dataset& test, EvalShard shard) override {
    Plan& plan = *model_.eval;
    return CountCorrectOnTest(
        test, plan.input(), plan.labels(), plan.logits().shape()[1],
        [&plan]() -> absl::StatusOr<std::span<const float>> {
          RETURN_IF_ERROR(plan.Run());
          return plan.logits().values<float>();
        },
        shard);
  }
  absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const std::string& name,
                                                             const AlgorithmContext& host_context,
                                                             Communicator* /*device_comm*/) override {
    return ald::CreateAlgorithm(name, host_context);
  }

 private:
  CompiledModel model_;
  CpuStepPlan step_plan_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerModel>> CreateCpuWorkerModel(const ModelGraph& train_graph,
                                                                  const ModelGraph& eval_graph,
                                                                  const CompileOptions& options,
                                                                  Trace* trace, int rank) {
  ASSIGN_OR_RETURN(CompiledModel model, CompileModel(train_graph, &eval_graph, options));
  model.train->SetTrace(trace, rank, kComputeTid);
  return std::unique_ptr<WorkerModel>(new CpuWorkerModel(std::move(model)));
}

}  // namespace ald
