// How far --precision=bf16's gradients and test accuracy are from fp32's at the same
// parameters: trains fp32 for --steps (SGD: lr 0.1 decayed linearly to 0, the trainer's
// momentum 0.9 and weight decay 5e-4), copies the parameters and running statistics into a
// bf16 plan, then prints (1) the test accuracy of both evaluation plans and (2) for each
// parameter, bf16 against fp32 over --batches training batches, the relative L2 gradient error
// and <bf16, fp32> / |fp32|^2 (below 1: bf16 shrinks that gradient).
// A diagnostic for README "Mixed precision": it separates bf16's rounding noise, which every
// layer shows (PyTorch's autocast shows the same), from a layer or evaluation that is off.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "core/status.h"
#include "data/batch.h"
#include "data/dataset.h"
#include "graph/compiler.h"
#include "models/registry.h"
#include "ops/cpu/bf16_support.h"
#include "ops/sgd.h"
#include "tools/trainer/test_accuracy.h"

ABSL_FLAG(std::string, model, "resnet20", "model name (models/registry.h)");
ABSL_FLAG(std::string, dataset, "fashion_mnist", "fashion_mnist, cifar10 or synthetic (tests)");
ABSL_FLAG(std::string, data_dir, "/usr/share/datasets/fashion-mnist", "the dataset's directory");
ABSL_FLAG(int, steps, 0, "fp32 SGD steps before comparing");
ABSL_FLAG(int, batches, 4, "training batches the gradient errors are summed over");
ABSL_FLAG(int, batch, 128, "batch size");
ABSL_FLAG(uint64_t, seed, 1, "initialisation seed");

namespace ald {
namespace {

struct Pair {
  CompiledModel fp32, bf16;
};

absl::StatusOr<Pair> CompileBoth(const std::string& name, const Dataset& train, int64_t batch,
                                 int64_t eval_examples) {
  ModelOptions options;
  options.batch = batch;
  options.channels = train.channels;
  options.height = train.height;
  options.width = train.width;
  options.classes = train.num_classes;
  ModelOptions eval_options = options;
  eval_options.batch = std::min<int64_t>(1000, eval_examples);
  ASSIGN_OR_RETURN(ModelGraph graph, BuildModel(name, options));
  ASSIGN_OR_RETURN(ModelGraph eval_graph, BuildModel(name, eval_options));
  CompileOptions bf16;
  bf16.precision = Precision::kBF16;
  Pair pair;
  ASSIGN_OR_RETURN(pair.fp32, CompileModel(graph, &eval_graph, CompileOptions()));
  ASSIGN_OR_RETURN(pair.bf16, CompileModel(graph, &eval_graph, bf16));
  return pair;
}

// Examples [first, first + batch) of `train` (wrapping) into `plan`'s batch.
void FillBatch(const BatchAssembler& assembler, const Dataset& train, int64_t first, Plan& plan) {
  std::vector<int64_t> indices(plan.labels().num_elements());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = (first + i) % train.count;
  assembler.Assemble(indices, nullptr, plan.input().values<float>(),
                     plan.labels().values<int32_t>());
}

// Copies every parameter and running statistic of `from` into `to` by name (the two stores
// may order their buckets differently).
void CopyState(ParameterStore& from, ParameterStore& to) {
  std::map<std::string, ValueId> by_name;
  for (ValueId v : to.layout()) by_name[to.name(v)] = v;
  for (ValueId v : to.running_stats()) by_name[to.name(v)] = v;
  std::vector<ValueId> state = from.layout();
  state.insert(state.end(), from.running_stats().begin(), from.running_stats().end());
  for (ValueId v : state) {
    std::span<const float> source = from.View(v).values<float>();
    std::copy(source.begin(), source.end(), to.View(by_name.at(from.name(v))).values<float>().begin());
  }
}

absl::StatusOr<double> Accuracy(Plan& plan, const Dataset& test) {
  return TestAccuracy(test, plan.input(), plan.labels(), test.num_classes,
                      [&plan]() -> absl::StatusOr<std::span<const float>> {
                        RETURN_IF_ERROR(plan.Run());
                        return plan.logits().values<float>();
                      });
}

absl::Status Run() {
  const std::string dataset = absl::GetFlag(FLAGS_dataset), dir = absl::GetFlag(FLAGS_data_dir);
  const int steps = absl::GetFlag(FLAGS_steps), batches = absl::GetFlag(FLAGS_batches);
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  if (steps < 0) return absl::InvalidArgumentError("--steps: expected a count >= 0");
  if (batches < 1) return absl::InvalidArgumentError("--batches: expected a count >= 1");
  if (batch < 1) return absl::InvalidArgumentError("--batch: expected a size >= 1");
  ASSIGN_OR_RETURN(const std::string note, cpu::Bf16PrecisionNote("bf16_gradient_error"));
  std::printf("%s\n", note.c_str());
  ASSIGN_OR_RETURN(Dataset train, LoadDataset(dataset, dir, Split::kTrain));
  ASSIGN_OR_RETURN(Dataset test, LoadDataset(dataset, dir, Split::kTest));
  ASSIGN_OR_RETURN(BatchAssembler assembler, BatchAssembler::Create(train));
  ASSIGN_OR_RETURN(Pair pair, CompileBoth(absl::GetFlag(FLAGS_model), train, batch, test.count));
  ParameterStore& fp32 = *pair.fp32.store;
  fp32.Initialize(absl::GetFlag(FLAGS_seed));

  int64_t cursor = 0;
  for (int step = 0; step < steps; ++step, cursor += batch) {
    FillBatch(assembler, train, cursor, *pair.fp32.train);
    RETURN_IF_ERROR(pair.fp32.train->Run());
    const cpu::SgdConfig sgd{.lr = 0.1f * (1.0f - static_cast<float>(step) / steps),
                             .momentum = 0.9f, .weight_decay = 5e-4f};
    RETURN_IF_ERROR(cpu::SgdStep(sgd, fp32.parameters(), fp32.gradients(), fp32.momentum()));
  }
  CopyState(fp32, *pair.bf16.store);
  ASSIGN_OR_RETURN(const double fp32_accuracy, Accuracy(*pair.fp32.eval, test));
  ASSIGN_OR_RETURN(const double bf16_accuracy, Accuracy(*pair.bf16.eval, test));
  std::printf("after %d fp32 steps, the same parameters: test accuracy fp32 %.2f%%, bf16 %.2f%%\n",
              steps, 100 * fp32_accuracy, 100 * bf16_accuracy);

  // Per parameter, summed over the batches: squared error, squared norm and <bf16, fp32>, whose
  // ratio to the squared norm shows a bias in scale (1 when bf16 only adds noise).
  std::map<std::string, ValueId> bf16_grad;
  for (ValueId v : pair.bf16.store->layout()) {
    bf16_grad[pair.bf16.store->name(v)] = pair.bf16.training_graph.grad[v];
  }
  const size_t count = fp32.layout().size();
  std::vector<double> error(count), norm(count), dot(count);
  for (int b = 0; b < batches; ++b, cursor += batch) {
    for (CompiledModel* model : {&pair.fp32, &pair.bf16}) {
      FillBatch(assembler, train, cursor, *model->train);
      RETURN_IF_ERROR(model->train->Run());
    }
    std::printf("batch %d: loss fp32 %.5f, bf16 %.5f\n", b, pair.fp32.train->loss(),
                pair.bf16.train->loss());
    for (size_t k = 0; k < fp32.layout().size(); ++k) {
      const ValueId p = fp32.layout()[k];
      std::span<const float> a = fp32.View(pair.fp32.training_graph.grad[p]).values<float>();
      std::span<const float> c = pair.bf16.store->View(bf16_grad.at(fp32.name(p))).values<float>();
      for (size_t i = 0; i < a.size(); ++i) {
        error[k] += (double(c[i]) - a[i]) * (double(c[i]) - a[i]);
        norm[k] += double(a[i]) * a[i];
        dot[k] += double(c[i]) * a[i];
      }
    }
  }
  // The layout is in backward order: print from the input side.
  std::printf("bf16 against fp32 over %d batches: relative L2 gradient error, <bf16, fp32> / |fp32|^2\n",
              batches);
  for (size_t k = count; k-- > 0;) {
    std::printf("  %-45s %.4f %.4f\n", fp32.name(fp32.layout()[k]).c_str(),
                std::sqrt(error[k] / norm[k]), dot[k] / norm[k]);
  }
  const double all_norm = std::accumulate(norm.begin(), norm.end(), 0.0);
  std::printf("  %-45s %.4f %.4f\n", "all parameters",
              std::sqrt(std::accumulate(error.begin(), error.end(), 0.0) / all_norm),
              std::accumulate(dot.begin(), dot.end(), 0.0) / all_norm);
  return absl::OkStatus();
}

}  // namespace
}  // namespace ald

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::Status status = ald::Run(); !status.ok()) {
    std::fprintf(stderr, "bf16_gradient_error: %s\n", std::string(status.message()).c_str());
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
