// The CPU WorkerModel: the oneDNN training plan and the evaluation plan over one store.
#include "core/status.h"
#include "tools/trainer/test_accuracy.h"
#include "tools/trainer/worker_model.h"

namespace ald {
namespace {

class CpuWorkerModel final : public WorkerModel {
 public:
  explicit CpuWorkerModel(CompiledModel model) : model_(std::move(model)) {}

  ParameterStore& store() override { return *model_.store; }
  Tensor& input() override { return model_.train->input(); }
  Tensor& labels() override { return model_.train->labels(); }
  absl::Status Run(const DropoutKey& key) override { return model_.train->Run(key); }
  float loss() const override { return model_.train->loss(); }
  int64_t correct() const override { return model_.train->correct(); }
  int num_buckets() const override { return model_.train->num_buckets(); }
  void SetLossReadyCallback(std::function<absl::Status(float)> callback) override {
    model_.train->SetLossReadyCallback(std::move(callback));
  }
  void SetBucketReadyCallback(std::function<absl::Status(int)> callback) override {
    model_.train->SetBucketReadyCallback(std::move(callback));
  }
  void SetBucketNeededCallback(std::function<absl::Status(int)> callback) override {
    model_.train->SetBucketNeededCallback(std::move(callback));
  }
  absl::Status LocalSgd(const cpu::SgdConfig& sgd) override {
    return cpu::SgdStep(sgd, model_.store->parameters(), model_.store->gradients(),
                        model_.store->momentum());
  }
  absl::StatusOr<double> Evaluate(const Dataset& test) override {
    Plan& plan = *model_.eval;
    return TestAccuracy(test, plan.input(), plan.labels(), plan.logits().shape()[1],
                        [&plan]() -> absl::StatusOr<std::span<const float>> {
                          RETURN_IF_ERROR(plan.Run());
                          return plan.logits().values<float>();
                        });
  }
  absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const std::string& name,
                                                             const AlgorithmContext& host_context,
                                                             Communicator* /*device_comm*/) override {
    return ald::CreateAlgorithm(name, host_context);
  }

 private:
  CompiledModel model_;
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
