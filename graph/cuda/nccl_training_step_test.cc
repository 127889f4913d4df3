// The GPU training step over NCCL against the plain device step on an identical plan, with one
// rank on one GPU (more ranks need more GPUs: NCCL puts one rank on each). The all-reduce of a
// single rank is its own value, so pipelined all-reduce SGD must equal plain SGD bit for bit;
// a decentralized step whose only neighbour is the rank itself (NCCL sends to itself) must
// equal SGD followed by x = w_self·y + w·y, and AL-DSGD the same with its leader weights. All
// run several steps, so the next forward really does read parameters that the communication
// stream combined while the previous step ended: a missing wait between the two streams shows
// up as a difference.
#include "graph/cuda/nccl_training_step.h"

#include <memory>
#include <vector>

#include "comm/aldsgd.h"
#include "comm/inproc_communicator.h"
#include "comm/nccl_communicator.h"
#include "core/rng.h"
#include "cuda_runtime_api.h"
#include "graph/cuda/cuda_compiler.h"
#include "gtest/gtest.h"
#include "models/registry.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/cuda/mixing.h"

namespace ald::cuda {
namespace {

constexpr int kSteps = 4;
constexpr float kSelfWeight = 0.25f, kNeighborWeight = 0.75f;
const cpu::SgdConfig kSgd{0.05f, 0.9f, false, 5e-4f};
const LocalStep kLocal{0.05f, 0.9f, false, 5e-4f};

// The rank as its own only neighbour, every step.
NeighborhoodSource SelfLoop() {
  return [](int64_t) -> absl::StatusOr<Neighborhood> {
    Neighborhood neighborhood;
    neighborhood.active_matchings = {0};
    neighborhood.neighbors = {{.rank = 0, .weight = kNeighborWeight, .matching = 0}};
    neighborhood.self_weight = kSelfWeight;
    return neighborhood;
  };
}

// The pipelined step's hooks, as the training loop installs them.
void Hook(CudaPlan& plan, Algorithm& algorithm) {
  plan.SetBucketReadyCallback([&algorithm](int b) { return algorithm.OnBucketReady(b); });
  plan.SetBucketNeededCallback([&algorithm](int b) { return algorithm.OnBucketNeeded(b); });
}

// A ResNet-8 on 8x8 images in several buckets, initialised and fed the same batch every time.
absl::StatusOr<CudaCompiledModel> MakeModel(std::span<const float> input,
                                            std::span<const int32_t> labels) {
  ModelOptions model{.batch = 4, .channels = 3, .height = 8, .width = 8, .classes = 5};
  ASSIGN_OR_RETURN(ModelGraph graph, BuildModel("resnet8", model));
  CompileOptions options;
  options.min_buckets = 4;
  ASSIGN_OR_RETURN(CudaCompiledModel compiled, CompileModelCuda(std::move(graph), options));
  compiled.train->host_store().Initialize(11);
  RETURN_IF_ERROR(compiled.train->UploadState());
  RETURN_IF_ERROR(compiled.train->SetBatch(input, labels));
  return compiled;
}

std::vector<float> Parameters(CudaPlan& plan) {
  std::vector<float> host(plan.num_parameters());
  EXPECT_EQ(cudaMemcpy(host.data(), plan.parameters(), host.size() * sizeof(float),
                       cudaMemcpyDeviceToHost),
            cudaSuccess);
  return host;
}

class NcclTrainingStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_CUDA();
    Rng rng(3, 0, 0, RngStream::kTest);
    input_.resize(4 * 3 * 8 * 8);
    for (float& v : input_) v = rng.Normal();
    for (int32_t& label : labels_) label = static_cast<int32_t>(rng.Below(5));
    auto world = InprocWorld::Create(1);
    ASSERT_TRUE(world.ok()) << world.status();
    world_ = *std::move(world);
    ALD_ASSERT_OK_AND_ASSIGN(bootstrap_, world_->Join(0));
    ALD_ASSERT_OK_AND_ASSIGN(nccl_,
                             CreateNcclCommunicator(*bootstrap_, {.comm = {.timeout = absl::Seconds(30)}}));
  }

  std::vector<float> input_;
  std::vector<int32_t> labels_ = std::vector<int32_t>(4);
  std::shared_ptr<InprocWorld> world_;
  std::unique_ptr<Communicator> bootstrap_, nccl_;
};

// Pipelined (hooked on the plan's bucket callbacks, combines deferred to the next forward) or
// sequential (every bucket after the run, combines waited for at EndStep).
void ExpectAllReduceEqualsPlainSgd(CudaCompiledModel& model, CudaCompiledModel& plain,
                                   Communicator& nccl, bool pipelined) {
  ALD_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<NcclTrainingStep> step,
      NcclTrainingStep::AllReduce(*model.train, nccl, {.defer_combine = pipelined}));
  if (pipelined) Hook(*model.train, *step);
  ASSERT_GT(model.train->num_buckets(), 2);
  ALD_ASSERT_OK(step->Start());
  for (int t = 0; t < kSteps; ++t) {
    ALD_ASSERT_OK(step->BeginStep(t, kLocal));
    ALD_ASSERT_OK(model.train->Run());
    if (!pipelined) {
      for (int b = 0; b < model.train->num_buckets(); ++b) ALD_ASSERT_OK(step->OnBucketReady(b));
    }
    ALD_ASSERT_OK(step->EndStep());
    ALD_ASSERT_OK(plain.train->Run());
    ALD_ASSERT_OK(plain.train->SgdStep(kSgd));
    EXPECT_EQ(model.train->loss(), plain.train->loss()) << "step " << t;
  }
  ALD_ASSERT_OK(step->Flush());
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(Parameters(*model.train), Parameters(*plain.train));
}

TEST_F(NcclTrainingStepTest, PipelinedAllReduceOfOneRankEqualsPlainSgd) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  ExpectAllReduceEqualsPlainSgd(model, plain, *nccl_, /*pipelined=*/true);
}

TEST_F(NcclTrainingStepTest, SequentialAllReduceOfOneRankEqualsPlainSgd) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  ExpectAllReduceEqualsPlainSgd(model, plain, *nccl_, /*pipelined=*/false);
}

// Steps `model` with `step` (hooked as the trainer does, the loss reported after each run) and
// `plain` with device SGD then x = weights[0]·y + weights[1]·y, and expects the same parameters.
void ExpectSgdThenWeightedSum(CudaCompiledModel& model, CudaCompiledModel& plain,
                              NcclTrainingStep& step, std::span<const float> weights) {
  Hook(*model.train, step);
  CudaPlan& reference = *plain.train;
  const float* inputs[] = {reference.parameters(), reference.parameters()};
  for (int t = 0; t < kSteps; ++t) {
    ALD_ASSERT_OK(step.BeginStep(t, kLocal));
    ALD_ASSERT_OK(model.train->Run());
    ALD_ASSERT_OK(step.OnLoss(model.train->loss()));
    ALD_ASSERT_OK(step.EndStep());
    ALD_ASSERT_OK(reference.Run());
    ALD_ASSERT_OK(reference.SgdStep(kSgd));
    ALD_ASSERT_OK(WeightedSum(weights, inputs, static_cast<int64_t>(reference.num_parameters()),
                              reference.parameters(), reference.compute_stream()));
    EXPECT_EQ(model.train->loss(), reference.loss()) << "step " << t;
  }
  ALD_ASSERT_OK(step.Flush());
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(Parameters(*model.train), Parameters(reference));
}

TEST_F(NcclTrainingStepTest, SelfNeighbourCombineEqualsSgdThenWeightedSum) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(std::unique_ptr<NcclTrainingStep> step,
                           NcclTrainingStep::Decentralized(*model.train, *nccl_, SelfLoop(), 1,
                                                           {.defer_combine = true}));
  const float weights[] = {kSelfWeight, kNeighborWeight};
  ExpectSgdThenWeightedSum(model, plain, *step, weights);
}

// AL-DSGD (code form) with the rank as its own neighbour: every member of C_i reports the same
// loss and degree, so the leader and the max-degree member are the rank itself (ties go to self)
// and the combine is SGD then the weighted sum with FoldLeaderWeights' weights. The losses travel
// over the in-process bootstrap communicator, the models over NCCL, the combine at EndStep.
TEST_F(NcclTrainingStepTest, AldsgdCombinesWithTheLeaderWeightsAtEndStep) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  AlgorithmOptions options;
  options.defer_combine = true;  // c1, c2, p1, p2 at the authors' defaults
  ALD_ASSERT_OK_AND_ASSIGN(std::unique_ptr<NcclTrainingStep> step,
                           NcclTrainingStep::Aldsgd(*model.train, *nccl_, *bootstrap_,
                                                    SelfLoop(), 1, options));
  std::vector<double> folded = {kSelfWeight, kNeighborWeight};
  FoldLeaderWeights(AldsgdLeaders{}, options.c1, options.c2, options.p1, options.p2, folded);
  const std::vector<float> weights(folded.begin(), folded.end());
  ExpectSgdThenWeightedSum(model, plain, *step, weights);
}

TEST_F(NcclTrainingStepTest, RejectsADegreeBeyondWhatItWasBuiltFor) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  NeighborhoodSource two = [](int64_t) -> absl::StatusOr<Neighborhood> {
    Neighborhood neighborhood;
    neighborhood.neighbors = {{.rank = 0, .weight = 0.25}, {.rank = 0, .weight = 0.25}};
    neighborhood.self_weight = 0.5;
    return neighborhood;
  };
  ALD_ASSERT_OK_AND_ASSIGN(std::unique_ptr<NcclTrainingStep> step,
                           NcclTrainingStep::Decentralized(*model.train, *nccl_, two, 1));
  const absl::Status status = step->BeginStep(0, kLocal);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("2 neighbours"), absl::string_view::npos) << status;
}

}  // namespace
}  // namespace ald::cuda
