// The table of op cases (ops/testing/op_cases.h) on oneDNN, in plain and blocked layouts, in f32
// and in bf16 (--precision=bf16: the op and the layers around it on bf16 activations), against
// the double reference, and the reference's gradients against finite differences.
#include "ops/testing/op_cases.h"

#include <algorithm>
#include <vector>

#include "graph/compiler.h"
#include "ops/cpu/bf16_support.h"
#include "ops/testing/op_testing.h"

namespace ald::testing {
namespace {

class OpCasesTest : public ::testing::TestWithParam<OpCase> {};

void ExpectCpuMatchesReference(const OpCase& op_case, Precision precision) {
  absl::StatusOr<ModelGraph> graph = BuildCaseGraph(op_case);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const CaseBatch batch = MakeBatch(*graph, op_case.classes);
  for (bool blocked : {false, true}) {
    SCOPED_TRACE(blocked ? "blocked layouts" : "plain layouts");
    CompileOptions options;
    options.fuse = op_case.fuse;
    options.blocked_layouts = blocked;
    options.precision = precision;
    absl::StatusOr<CompiledModel> model = CompileModel(*graph, nullptr, options);
    ASSERT_TRUE(model.ok()) << model.status();
    model->store->Initialize(3);
    Plan& plan = *model->train;
    std::ranges::copy(batch.input, plan.input().values<float>().begin());
    std::ranges::copy(batch.labels, plan.labels().values<int32_t>().begin());
    absl::Status status = plan.Run();
    ASSERT_TRUE(status.ok()) << status;

    const TrainingGraph& prepared = model->training_graph;
    Outcome outcome;
    outcome.loss = plan.loss();
    for (ValueId p : model->store->layout()) {
      outcome.gradients.push_back(ToDoubles(model->store->View(prepared.grad[p])));
    }
    absl::StatusOr<Outcome> reference = RunReference(prepared, *model->store, batch);
    ASSERT_TRUE(reference.ok()) << reference.status();
    if (precision == Precision::kF32) {
      EXPECT_TRUE(OutcomesClose(outcome, *reference, op_case));
    } else {
      EXPECT_TRUE(Bf16OutcomesClose(outcome, *reference));
    }
  }
}

TEST_P(OpCasesTest, CpuMatchesReference) { ExpectCpuMatchesReference(GetParam(), Precision::kF32); }

// The bf16 forward (and backward) of every op against the same reference, at bf16's tolerance
// (Bf16OutcomesClose). The graph's input and logits are cast; everything between is bf16.
TEST_P(OpCasesTest, CpuBf16MatchesReference) {
  if (cpu::CpuBf16Capability().support == cpu::Bf16Support::kUnavailable) {
    GTEST_SKIP() << "oneDNN runs no bf16 on this CPU (" << cpu::CpuBf16Capability().isa << ")";
  }
  ExpectCpuMatchesReference(GetParam(), Precision::kBF16);
}

TEST_P(OpCasesTest, ReferenceBackwardMatchesFiniteDifferences) {
  const OpCase& op_case = GetParam();
  absl::StatusOr<ModelGraph> graph = BuildCaseGraph(op_case);
  ASSERT_TRUE(graph.ok()) << graph.status();
  CompileOptions options;
  options.fuse = op_case.fuse;
  absl::StatusOr<CompiledModel> model = CompileModel(*graph, nullptr, options);
  ASSERT_TRUE(model.ok()) << model.status();
  model->store->Initialize(3);
  EXPECT_TRUE(ReferenceMatchesFiniteDifferences(model->training_graph, *model->store,
                                                MakeBatch(*graph, op_case.classes), op_case));
}

INSTANTIATE_TEST_SUITE_P(Ops, OpCasesTest, ::testing::ValuesIn(OpCases()), CaseName);

}  // namespace
}  // namespace ald::testing
