#include "ops/testing/op_cases.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/rng.h"
#include "core/status.h"
#include "graph/reference_executor.h"
#include "ops/pool_testing.h"
#include "ops/testing/op_testing.h"

namespace ald::testing {
namespace {

// Rows, grouped by op; the shapes and attributes are those of the ops' former per-op tests:
// batch 1, odd and non-square sizes, strides with padding, the ResNet shapes that matter.
// Every row holds to the default tolerances (1e-5 absolute, 1e-4 relative: float kernels, and
// the float convolution and linear around the op, against double loops); a row that needed
// more would say so in its tolerance fields.
std::vector<OpCase> MakeCases() {
  using Op = std::function<ValueId(ModelBuilder&, ValueId)>;
  auto conv = [](int64_t out, int64_t kernel, int64_t stride, int64_t padding, bool bias) -> Op {
    return [=](ModelBuilder& m, ValueId x) {
      ConvSpec spec;
      spec.out = out;
      spec.kernel = kernel;
      spec.stride = stride;
      spec.padding = padding;
      spec.bias = bias;
      return m.Conv(x, spec);
    };
  };
  auto then_relu = [](Op op) -> Op {
    return [=](ModelBuilder& m, ValueId x) { return m.Relu(op(m, x)); };
  };
  const Op relu = [](ModelBuilder& m, ValueId x) { return m.Relu(x); };
  const Op batchnorm = [](ModelBuilder& m, ValueId x) { return m.BatchNorm(x); };
  const Op global_avgpool = [](ModelBuilder& m, ValueId x) { return m.GlobalAvgPool(x); };
  auto shortcut = [](int64_t out, int64_t stride) -> Op {
    return [=](ModelBuilder& m, ValueId x) { return m.ShortcutPad(x, out, stride); };
  };
  // Both inputs carry gradients (x is read twice: a residual connection).
  const Op add = [](ModelBuilder& m, ValueId x) { return m.Add(x, m.BatchNorm(x)); };
  auto linear = [](int64_t out, bool bias) -> Op {
    return [=](ModelBuilder& m, ValueId x) { return m.Linear(m.Flatten(x), out, bias); };
  };
  const Op nothing = [](ModelBuilder&, ValueId x) { return x; };

  std::vector<OpCase> cases = {
      {"conv2d/batch1", Shape{1, 3, 8, 8}, conv(4, 3, 1, 1, true)},
      {"conv2d/odd_no_bias", Shape{2, 5, 7, 9}, conv(6, 3, 1, 0, false)},
      {"conv2d/stride2_padding", Shape{3, 16, 9, 9}, conv(32, 3, 2, 1, true)},
      {"conv2d/1x1", Shape{4, 16, 8, 8}, conv(16, 1, 1, 0, true)},
      {"conv2d/downsample", Shape{2, 32, 16, 16}, conv(64, 3, 2, 1, false)},
      // >= 128 channels, <= 64 output pixels: bf16 takes Im2colWeightGradCpu's path.
      {"conv2d/wide_small_image", Shape{2, 128, 4, 4}, conv(8, 3, 1, 1, true)},
      {"conv2d/wide_small_image_stride2", Shape{3, 128, 7, 5}, conv(16, 3, 2, 1, false)},
      {"conv2d/fused_relu", Shape{2, 8, 9, 9}, then_relu(conv(16, 3, 1, 1, true)), true},
      // LeNet-5's stem: one input channel, six plain output channels (forward and
      // backward-weights run on a blocked output, bridged).
      {"conv2d/stem_1_to_6_fused_relu", Shape{3, 1, 12, 12}, then_relu(conv(6, 5, 1, 2, true)),
       true},
      // LeNet-5's second convolution: six plain input channels, so each pass runs in a layout
      // that has a direct kernel (forward to blocked, both backward passes in NHWC), bridged.
      {"conv2d/lenet_6_to_16_fused_relu", Shape{2, 6, 10, 10},
       then_relu(conv(16, 5, 1, 0, true)), true},
      {"conv2d/fused_relu_stride2", Shape{3, 16, 10, 7}, then_relu(conv(8, 3, 2, 1, false)),
       true},

      {"batchnorm2d/4d", Shape{4, 3, 5, 5}, batchnorm},
      {"batchnorm2d/batch1", Shape{1, 16, 6, 7}, batchnorm},
      {"batchnorm2d/fused_relu", Shape{3, 8, 4, 6}, then_relu(batchnorm), true},

      {"relu/batch1", Shape{1, 3, 5, 5}, relu},
      {"relu/4d", Shape{4, 16, 9, 7}, relu},
      {"relu/features", Shape{3, 10, 1, 1}, relu},

      {"global_avgpool/1x1", Shape{1, 1, 1, 1}, global_avgpool},
      {"global_avgpool/batch1", Shape{1, 3, 4, 4}, global_avgpool},
      {"global_avgpool/odd", Shape{2, 3, 7, 5}, global_avgpool},
      {"global_avgpool/resnet", Shape{4, 16, 8, 8}, global_avgpool},
      {"global_avgpool/one_row", Shape{3, 5, 1, 9}, global_avgpool},

      {"shortcut_pad/resnet_stage2", Shape{2, 16, 32, 32}, shortcut(32, 2)},
      {"shortcut_pad/odd_uneven", Shape{1, 3, 7, 5}, shortcut(8, 2)},
      {"shortcut_pad/identity", Shape{3, 4, 6, 6}, shortcut(4, 1)},
      {"shortcut_pad/stride3", Shape{2, 2, 5, 9}, shortcut(6, 3)},

      {"add/batch1", Shape{1, 3, 5, 5}, add},
      {"add/4d", Shape{4, 16, 9, 7}, add},
      {"add/features", Shape{3, 10, 1, 1}, add},
      {"add/fused_relu", Shape{1, 3, 5, 5}, then_relu(add), true},
      {"add/fused_relu_4d", Shape{4, 16, 9, 7}, then_relu(add), true},

      {"linear/batch1", Shape{1, 7, 1, 1}, linear(3, true)},
      {"linear/resnet_head", Shape{5, 64, 1, 1}, linear(10, true)},
      {"linear/odd_no_bias", Shape{16, 33, 1, 1}, linear(17, false)},
      {"linear/blocked_weights", Shape{128, 256, 1, 1}, linear(64, true)},

      // The tail (flatten, linear, softmax cross-entropy, accuracy) is in every case's graph;
      // these rows have no op of their own in front of it, and vary the classes.
      {"softmax_cross_entropy/one_class", Shape{1, 3, 1, 1}, nothing, false, 1},
      {"softmax_cross_entropy/batch1", Shape{1, 4, 1, 1}, nothing, false, 10},
      {"softmax_cross_entropy/7x3", Shape{7, 5, 1, 1}, nothing, false, 3},
      {"softmax_cross_entropy/64x10", Shape{64, 8, 1, 1}, nothing, false, 10},
      {"softmax_cross_entropy/5x1000", Shape{5, 6, 1, 1}, nothing, false, 1000},
  };
  // Pooling: the windows of ops/pool_testing.h, and for averages padding counted or not.
  for (const PoolCase& c : PoolCases()) {
    const std::string window = absl::StrCat(c.input.ToString(), " ", DescribeWindow(c.window));
    const Pool2dWindow max_window = c.window;
    cases.push_back({"maxpool2d/" + window, c.input,
                     [=](ModelBuilder& m, ValueId x) { return m.MaxPool(x, max_window); }});
    for (bool count_include_pad : {true, false}) {
      const AvgPool2dAttrs attrs{.window = c.window, .count_include_pad = count_include_pad};
      cases.push_back({absl::StrCat("avgpool2d/", window, count_include_pad ? "" : " excluding"),
                       c.input, [=](ModelBuilder& m, ValueId x) { return m.AvgPool(x, attrs); }});
    }
  }
  return cases;
}

std::vector<double> Widened(std::span<const float> values) {
  return std::vector<double>(values.begin(), values.end());
}

}  // namespace

const std::vector<OpCase>& OpCases() {
  static const std::vector<OpCase>* const cases = new std::vector<OpCase>(MakeCases());
  return *cases;
}

std::string CaseName(const ::testing::TestParamInfo<OpCase>& info) {
  std::string name = info.param.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

void PrintTo(const OpCase& op_case, std::ostream* out) { *out << op_case.name; }

absl::StatusOr<ModelGraph> BuildCaseGraph(const OpCase& op_case) {
  ModelBuilder m("case", op_case.input);
  ConvSpec source;
  source.out = op_case.input[1];
  source.kernel = 1;
  const ValueId x = m.Conv(m.input(), source, "source");
  const ValueId y = op_case.op(m, x);
  return m.Finish(m.Linear(m.Flatten(y), op_case.classes, true, "head"));
}

CaseBatch MakeBatch(const ModelGraph& graph, int64_t classes) {
  Rng rng(11, 0, 0, RngStream::kTest);
  CaseBatch batch;
  batch.input.resize(graph.value(graph.input).shape.num_elements());
  for (float& v : batch.input) v = rng.Normal();
  batch.labels.resize(graph.value(graph.labels).shape.num_elements());
  for (int32_t& label : batch.labels) {
    label = static_cast<int32_t>(rng.Below(static_cast<uint32_t>(classes)));
  }
  return batch;
}

absl::StatusOr<Outcome> RunReference(const TrainingGraph& graph, ParameterStore& store,
                                     const CaseBatch& batch) {
  ReferenceExecutor executor(graph);
  executor.Set(graph.graph.input, Widened(batch.input));
  executor.Set(graph.graph.labels, std::vector<double>(batch.labels.begin(), batch.labels.end()));
  for (ValueId p : store.layout()) executor.Set(p, ToDoubles(store.View(p)));
  RETURN_IF_ERROR(executor.Run());
  Outcome outcome;
  outcome.loss = executor.loss();
  for (ValueId p : store.layout()) outcome.gradients.push_back(executor.Get(graph.grad[p]));
  return outcome;
}

::testing::AssertionResult OutcomesClose(const Outcome& backend, const Outcome& reference,
                                         const OpCase& op_case) {
  const double atol = op_case.atol, rtol = op_case.rtol;
  if (std::abs(backend.loss - reference.loss) > atol + rtol * std::abs(reference.loss)) {
    return ::testing::AssertionFailure()
           << "loss " << backend.loss << ", reference " << reference.loss;
  }
  if (backend.gradients.size() != reference.gradients.size()) {
    return ::testing::AssertionFailure() << backend.gradients.size() << " gradients, reference "
                                         << reference.gradients.size();
  }
  for (size_t i = 0; i < reference.gradients.size(); ++i) {
    ::testing::AssertionResult close =
        AllClose(backend.gradients[i], reference.gradients[i], atol, rtol);
    if (!close) return close << " (gradient of parameter " << i << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Bf16OutcomesClose(const Outcome& backend, const Outcome& reference) {
  constexpr double kLossRtol = 0.01, kGradientRtol = 0.05;
  // Gradients that vanish in exact arithmetic (a bias before batch norm, a one-class loss) are
  // rounding noise in bf16: they are held to 1% of the step's largest gradient norm instead.
  double scale = 0;
  for (const std::vector<double>& e : reference.gradients) {
    scale = std::max(scale, std::sqrt(std::inner_product(e.begin(), e.end(), e.begin(), 0.0)));
  }
  if (std::abs(backend.loss - reference.loss) > 1e-5 + kLossRtol * std::abs(reference.loss)) {
    return ::testing::AssertionFailure()
           << "bf16 loss " << backend.loss << ", reference " << reference.loss;
  }
  if (backend.gradients.size() != reference.gradients.size()) {
    return ::testing::AssertionFailure() << backend.gradients.size() << " gradients, reference "
                                         << reference.gradients.size();
  }
  for (size_t i = 0; i < reference.gradients.size(); ++i) {
    const std::vector<double>& a = backend.gradients[i];
    const std::vector<double>& e = reference.gradients[i];
    double error = 0, norm = 0;
    for (size_t k = 0; k < e.size(); ++k) {
      error += (a[k] - e[k]) * (a[k] - e[k]);
      norm += e[k] * e[k];
    }
    if (std::sqrt(error) > std::max({kGradientRtol * std::sqrt(norm), 0.01 * scale, 1e-5})) {
      return ::testing::AssertionFailure()
             << "gradient of parameter " << i << ": L2 error " << std::sqrt(error)
             << ", reference norm " << std::sqrt(norm) << ", " << e.size() << " elements";
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ReferenceMatchesFiniteDifferences(const TrainingGraph& graph,
                                                             ParameterStore& store,
                                                             const CaseBatch& batch,
                                                             const OpCase& op_case) {
  constexpr double kStep = 1e-6;
  ReferenceExecutor executor(graph);
  executor.Set(graph.graph.input, Widened(batch.input));
  executor.Set(graph.graph.labels, std::vector<double>(batch.labels.begin(), batch.labels.end()));
  const std::vector<ValueId>& params = store.layout();
  for (ValueId p : params) executor.Set(p, ToDoubles(store.View(p)));
  if (absl::Status status = executor.Run(); !status.ok()) {
    return ::testing::AssertionFailure() << status;
  }
  std::vector<std::vector<double>> gradients;
  for (ValueId p : params) gradients.push_back(executor.Get(graph.grad[p]));
  auto loss_at = [&](ValueId p, const std::vector<double>& at) {
    ReferenceExecutor moved = executor;
    moved.Set(p, at);
    absl::Status status = moved.Run();
    EXPECT_TRUE(status.ok()) << status;
    return moved.loss();
  };
  for (size_t k = 0; k < params.size(); ++k) {
    const ValueId p = params[k];
    const std::vector<double>& base = executor.Get(p);
    const std::vector<double>& g = gradients[k];
    // A random unit direction, then the coordinate of the largest gradient.
    std::vector<std::vector<double>> directions = {RandomValues(base.size(), 100 + k)};
    const double norm = std::sqrt(std::inner_product(
        directions[0].begin(), directions[0].end(), directions[0].begin(), 0.0));
    for (double& d : directions[0]) d /= norm;
    std::vector<double> largest(base.size(), 0.0);
    largest[std::max_element(g.begin(), g.end(),
                             [](double a, double b) { return std::abs(a) < std::abs(b); }) -
            g.begin()] = 1.0;
    directions.push_back(largest);
    for (const std::vector<double>& d : directions) {
      std::vector<double> plus = base, minus = base;
      for (size_t i = 0; i < base.size(); ++i) {
        plus[i] += kStep * d[i];
        minus[i] -= kStep * d[i];
      }
      const double numeric = (loss_at(p, plus) - loss_at(p, minus)) / (2 * kStep);
      const double analytic = std::inner_product(g.begin(), g.end(), d.begin(), 0.0);
      // Truncation (~h^2) and rounding (~1e-16/h) are ~1e-10 against gradients of ~1e-2.
      if (std::abs(numeric - analytic) > 1e-9 + op_case.fd_rtol * std::abs(analytic)) {
        return ::testing::AssertionFailure()
               << "parameter '" << graph.graph.value(p).name << "': finite differences "
               << numeric << ", backward " << analytic;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ald::testing
