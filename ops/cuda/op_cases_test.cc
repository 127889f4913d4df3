// The table of op cases (ops/testing/op_cases.h) on CUDA against the double reference: the same
// cases, graphs, batch and tolerances as the oneDNN run (ops/op_cases_test.cc). Skips without a
// device.
#include "ops/testing/op_cases.h"

#include <vector>

#include "graph/cuda/cuda_compiler.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/testing/op_testing.h"

namespace ald::testing {
namespace {

class OpCasesCudaTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(OpCasesCudaTest, CudaMatchesReference) {
  SKIP_WITHOUT_CUDA();
  const OpCase& op_case = GetParam();
  absl::StatusOr<ModelGraph> graph = BuildCaseGraph(op_case);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const CaseBatch batch = MakeBatch(*graph, op_case.classes);
  CompileOptions options;
  options.fuse = op_case.fuse;
  options.blocked_layouts = false;  // the GPU keeps NCHW
  ALD_ASSERT_OK_AND_ASSIGN(cuda::CudaCompiledModel model,
                           cuda::CompileModelCuda(*graph, options));
  cuda::CudaPlan& plan = *model.train;
  plan.host_store().Initialize(3);
  ALD_ASSERT_OK(plan.UploadState());
  ALD_ASSERT_OK(plan.SetBatch(batch.input, batch.labels));
  ALD_ASSERT_OK(plan.Run());
  ALD_ASSERT_OK(plan.DownloadState());

  const TrainingGraph& prepared = model.training_graph;
  ParameterStore& store = plan.host_store();
  Outcome outcome;
  outcome.loss = plan.loss();
  for (ValueId p : store.layout()) {
    outcome.gradients.push_back(ToDoubles(store.View(prepared.grad[p])));
  }
  absl::StatusOr<Outcome> reference = RunReference(prepared, store, batch);
  ASSERT_TRUE(reference.ok()) << reference.status();
  EXPECT_TRUE(OutcomesClose(outcome, *reference, op_case));
}

INSTANTIATE_TEST_SUITE_P(Ops, OpCasesCudaTest, ::testing::ValuesIn(OpCases()), CaseName);

}  // namespace
}  // namespace ald::testing
