// One table of op cases (shapes, attributes, tolerances) run on every backend, in the spirit of
// ggml's tests/test-backend-ops.cpp: each case is a small graph around one op, run once on a
// backend and once on the double-precision reference executor (ops/ref loops) from the same
// parameters and batch; the loss and every parameter gradient must agree, and the reference's
// gradients must agree with central finite differences of its loss. The op's forward shows in
// the loss and in the head's weight gradient (dlogits^T times the op's flattened output); its
// backward in the gradients of the convolution in front of it. (A plan reuses the op's output
// buffer once the step no longer needs it, so it is not compared after the step.)
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "graph/autodiff.h"
#include "graph/model_builder.h"
#include "graph/parameter_store.h"
#include "gtest/gtest.h"

namespace ald::testing {

struct OpCase {
  std::string name;  // "relu/4d": unique; also the gtest parameter name (non-alphanumerics -> _)
  Shape input;       // the batch [N, C, H, W]
  // The op under test applied to `x`, an activation of shape `input` that carries a gradient.
  std::function<ValueId(ModelBuilder& m, ValueId x)> op;
  bool fuse = false;  // compile with ReLU fusion (for the ops' fused-ReLU forms)
  int64_t classes = 5;  // of the softmax cross-entropy every case ends in
  // A float backend against the double reference: |a - e| <= atol + rtol * |e|.
  double atol = 1e-5, rtol = 1e-4;
  // The reference's gradient against central finite differences (step 1e-6, in double).
  double fd_rtol = 1e-5;
};

// Every case; adding an op adds its rows here.
const std::vector<OpCase>& OpCases();
std::string CaseName(const ::testing::TestParamInfo<OpCase>& info);
void PrintTo(const OpCase& op_case, std::ostream* out);

// A case's graph: input -> 1x1 convolution (so the op's input carries a gradient) -> the op ->
// flatten -> linear -> softmax cross-entropy and accuracy over the case's classes.
absl::StatusOr<ModelGraph> BuildCaseGraph(const OpCase& op_case);

// The batch every backend runs: normal inputs and uniform labels from a fixed seed.
struct CaseBatch {
  std::vector<float> input;
  std::vector<int32_t> labels;
};
CaseBatch MakeBatch(const ModelGraph& graph, int64_t classes);

// What one step of a case computed, widened to double.
struct Outcome {
  double loss = 0;
  std::vector<std::vector<double>> gradients;  // per parameter, in store layout order
};

// The reference executor's step on `store`'s parameters and `batch`.
absl::StatusOr<Outcome> RunReference(const TrainingGraph& graph, ParameterStore& store,
                                     const CaseBatch& batch);

// Loss and gradients of `backend` within the case's tolerances of `reference`.
::testing::AssertionResult OutcomesClose(const Outcome& backend, const Outcome& reference,
                                         const OpCase& op_case);

// A bf16 run (activations and weights rounded to 8 significant bits, f32 accumulation) against
// the double reference: the loss within 1% (relative, plus 1e-5), each parameter's gradient
// within 5% in relative L2 norm (||a - e|| <= 0.05 ||e||), or 1% of the largest gradient norm
// for gradients near zero. Element-wise bounds would fail on gradients that nearly cancel; a
// norm bound still catches a wrong op (errors of order 100%).
::testing::AssertionResult Bf16OutcomesClose(const Outcome& backend, const Outcome& reference);

// The reference's gradients against central finite differences of its loss, along a random
// unit direction in each parameter tensor and along that tensor's largest-gradient coordinate.
::testing::AssertionResult ReferenceMatchesFiniteDifferences(const TrainingGraph& graph,
                                                             ParameterStore& store,
                                                             const CaseBatch& batch,
                                                             const OpCase& op_case);

}  // namespace ald::testing
