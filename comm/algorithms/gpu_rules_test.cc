// The registry's rules on the GPU's BucketDevice (NCCL on the plan's communication stream),
// stepped by the StepScheduler as the trainer does, against the plain device step on an
// identical plan, with one rank on one GPU (more ranks need more GPUs: NCCL puts one rank on each). The all-reduce of a
// single rank is its own value, so pipelined all-reduce SGD must equal plain SGD bit for bit;
// a decentralized step whose only neighbour is the rank itself (NCCL sends to itself) must
// equal SGD followed by x = w_self·y + w·y, and AL-DSGD the same with its leader weights (its
// leader the rank itself, or, where the self-loop reports a lower loss and a higher degree than
// the rank's own, the neighbour entry of C_i). All
// run several steps, so the next forward really does read parameters that the communication
// stream combined while the previous step ended: a missing wait between the two streams shows
// up as a difference.
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "comm/algorithms/aldsgd.h"
#include "comm/algorithms/cuda_bucket_device.h"
#include "comm/algorithms/dpsgd.h"
#include "comm/algorithms/registry.h"
#include "comm/inproc_communicator.h"
#include "comm/neighbor_exchange.h"
#include "comm/nccl_communicator.h"
#include "core/rng.h"
#include "cuda_runtime_api.h"
#include "graph/cuda/cuda_compiler.h"
#include "graph/cuda/cuda_step_plan.h"
#include "graph/step_scheduler.h"
#include "gtest/gtest.h"
#include "models/registry.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/cuda/mixing.h"

namespace ald {
namespace cuda {
namespace {

constexpr int kSteps = 4;
constexpr float kSelfWeight = 0.25f, kNeighborWeight = 0.75f;
const cpu::SgdConfig kSgd{0.05f, 0.9f, false, 5e-4f};
const LocalStep kLocal{0.05f, 0.9f, false, 5e-4f};

// The rank as its own only neighbour, every step.
std::function<absl::StatusOr<Neighborhood>(int64_t)> SelfLoop() {
  return [](int64_t) -> absl::StatusOr<Neighborhood> {
    Neighborhood neighborhood;
    neighborhood.active_matchings = {0};
    neighborhood.neighbors = {{.rank = 0, .weight = kNeighborWeight, .matching = 0}};
    neighborhood.self_weight = kSelfWeight;
    return neighborhood;
  };
}

// The host communicator, except that the AL-DSGD scalars a rank sends (loss, degree) arrive
// with the loss lowered by 1 and the degree raised by 1: over the self-loop, the neighbour entry
// of C_i then leads on both counts, so the leader is not the worker itself. (One GPU holds one
// NCCL rank: a real second worker needs a second GPU.)
class SelfNeighbourLeads final : public Communicator {
 public:
  explicit SelfNeighbourLeads(Communicator& inner) : Communicator(inner.options()), inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }

 protected:
  Request IsendBytes(int peer, int tag, std::span<const std::byte> data, int priority) override {
    if (tag != ExchangeTag(ExchangeKind::kScalars, 0) || data.size() != sizeof(scalars_)) {
      return inner_.Isend(peer, tag, data, priority);
    }
    std::memcpy(scalars_.data(), data.data(), sizeof(scalars_));
    scalars_[0] -= 1.0f;
    scalars_[1] += 1.0f;
    return inner_.Isend(peer, tag, std::as_bytes(std::span<const float>(scalars_)), priority);
  }
  Request IrecvBytes(int peer, int tag, std::span<std::byte> data) override {
    return inner_.Irecv(peer, tag, data);
  }
  absl::Status AllReduceFloats(std::span<float> data, ReduceOp op) override {
    return inner_.AllReduce(data, op);
  }
  absl::Status BroadcastBytes(std::span<std::byte> data, int root) override {
    return inner_.Broadcast(data, root);
  }
  absl::Status AllGatherBytes(std::span<const std::byte> mine, std::span<std::byte> all) override {
    return inner_.AllGather(mine, all);
  }
  absl::Status BarrierAll() override { return inner_.Barrier(); }

 private:
  Communicator& inner_;
  std::array<float, 2> scalars_ = {0.0f, 0.0f};  // kept until the next step's send
};

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

class GpuRulesTest : public ::testing::Test {
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

  // The context of an algorithm on `plan`'s device buffers, over this test's NCCL world.
  AlgorithmContext ContextOn(CudaPlan& plan, const AlgorithmOptions& options = {}) {
    device_ = CreateCudaBucketDevice(*nccl_, plan.comm_stream());
    AlgorithmContext context;
    context.comm = bootstrap_.get();
    context.device = device_.get();
    context.options = options;
    const size_t n = plan.num_parameters();
    context.buffers = {std::span<float>(plan.parameters(), n),
                       std::span<float>(plan.gradients(), n), std::span<float>(plan.momentum(), n),
                       {}};
    for (const Bucket& bucket : plan.buckets()) {
      context.buffers.buckets.push_back({bucket.offset, bucket.size});
    }
    context.neighborhoods = SelfLoop();
    return context;
  }

  std::vector<float> input_;
  std::vector<int32_t> labels_ = std::vector<int32_t>(4);
  std::unique_ptr<BucketDevice> device_;
  std::shared_ptr<InprocWorld> world_;
  std::unique_ptr<Communicator> bootstrap_, nccl_;
};

// Pipelined (combines deferred to the next forward) or sequential (every bucket after the run).
void ExpectAllReduceEqualsPlainSgd(CudaCompiledModel& model, CudaCompiledModel& plain,
                                   const AlgorithmContext& context, bool pipelined) {
  ALD_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Algorithm> allreduce,
                           CreateAlgorithm("allreduce", context));
  ALD_ASSERT_OK_AND_ASSIGN(std::unique_ptr<CudaStepPlan> steps,
                           CudaStepPlan::Create(*model.train));
  StepScheduler scheduler(*steps, *allreduce, pipelined);
  ASSERT_GT(model.train->num_buckets(), 2);
  ALD_ASSERT_OK(allreduce->Start());
  for (int t = 0; t < kSteps; ++t) {
    ALD_ASSERT_OK(scheduler.Step(t, kLocal, {}));
    ALD_ASSERT_OK(plain.train->Run());
    ALD_ASSERT_OK(plain.train->SgdStep(kSgd));
    EXPECT_EQ(model.train->loss(), plain.train->loss()) << "step " << t;
  }
  ALD_ASSERT_OK(scheduler.Flush());
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(Parameters(*model.train), Parameters(*plain.train));
}

TEST_F(GpuRulesTest, PipelinedAllReduceOfOneRankEqualsPlainSgd) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  ExpectAllReduceEqualsPlainSgd(model, plain, ContextOn(*model.train), /*pipelined=*/true);
}

TEST_F(GpuRulesTest, SequentialAllReduceOfOneRankEqualsPlainSgd) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  ExpectAllReduceEqualsPlainSgd(model, plain, ContextOn(*model.train), /*pipelined=*/false);
}

// Steps `model` with `algorithm` through the scheduler, pipelined (the loss shared after each
// run), and `plain` with device SGD then x = weights[0]·y + weights[1]·y, and expects the same
// parameters.
void ExpectSgdThenWeightedSum(CudaCompiledModel& model, CudaCompiledModel& plain,
                              Algorithm& algorithm, std::span<const float> weights) {
  ALD_ASSERT_OK_AND_ASSIGN(std::unique_ptr<CudaStepPlan> steps,
                           CudaStepPlan::Create(*model.train));
  StepScheduler scheduler(*steps, algorithm, /*pipelined=*/true);
  CudaPlan& reference = *plain.train;
  const float* inputs[] = {reference.parameters(), reference.parameters()};
  for (int t = 0; t < kSteps; ++t) {
    ALD_ASSERT_OK(scheduler.Step(t, kLocal, {}));
    ALD_ASSERT_OK(reference.Run());
    ALD_ASSERT_OK(reference.SgdStep(kSgd));
    ALD_ASSERT_OK(WeightedSum(weights, inputs, static_cast<int64_t>(reference.num_parameters()),
                              reference.parameters(), reference.compute_stream()));
    EXPECT_EQ(model.train->loss(), reference.loss()) << "step " << t;
  }
  ALD_ASSERT_OK(scheduler.Flush());
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(Parameters(*model.train), Parameters(reference));
}

TEST_F(GpuRulesTest, SelfNeighbourCombineEqualsSgdThenWeightedSum) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  Dpsgd dpsgd(ContextOn(*model.train), "dpsgd");
  ALD_ASSERT_OK(dpsgd.Start());
  const float weights[] = {kSelfWeight, kNeighborWeight};
  ExpectSgdThenWeightedSum(model, plain, dpsgd, weights);
}

// AL-DSGD (code form) with the rank as its own neighbour: every member of C_i reports the same
// loss and degree, so the leader and the max-degree member are the rank itself (ties go to self)
// and the combine is SGD then the weighted sum with FoldLeaderWeights' weights. The losses travel
// over the in-process bootstrap communicator, the models over NCCL, the combine at EndStep.
TEST_F(GpuRulesTest, AldsgdCombinesWithTheLeaderWeights) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  const AlgorithmOptions options;  // c1, c2, p1, p2 at the authors' defaults
  Aldsgd aldsgd(ContextOn(*model.train, options));
  ALD_ASSERT_OK(aldsgd.Start());
  std::vector<double> folded = {kSelfWeight, kNeighborWeight};
  FoldLeaderWeights(AldsgdLeaders{}, options.c1, options.c2, options.p1, options.p2, folded);
  const std::vector<float> weights(folded.begin(), folded.end());
  ExpectSgdThenWeightedSum(model, plain, aldsgd, weights);
}

// The same where the leader is not the worker: the neighbour entry (position 1 of C_i) reports
// the lower loss and the higher degree, so both leader weights go to the received model.
TEST_F(GpuRulesTest, AldsgdWeighsALeaderThatIsNotTheWorker) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel plain, MakeModel(input_, labels_));
  const AlgorithmOptions options;
  AlgorithmContext context = ContextOn(*model.train, options);
  SelfNeighbourLeads scalars(*bootstrap_);
  context.comm = &scalars;
  Aldsgd aldsgd(context);
  ALD_ASSERT_OK(aldsgd.Start());
  std::vector<double> folded = {kSelfWeight, kNeighborWeight};
  FoldLeaderWeights(AldsgdLeaders{.loss_leader = 1, .max_degree = 1}, options.c1, options.c2,
                    options.p1, options.p2, folded);
  const std::vector<float> weights(folded.begin(), folded.end());
  ExpectSgdThenWeightedSum(model, plain, aldsgd, weights);
  const LeaderCounts* leaders = aldsgd.leader_counts();
  ASSERT_NE(leaders, nullptr);
  EXPECT_EQ(leaders->steps, kSteps);
  EXPECT_EQ(leaders->own_loss_leader, 0);
  EXPECT_EQ(leaders->own_degree_leader, 0);
}

TEST_F(GpuRulesTest, RejectsWhatTheGpuCannotRunYet) {
  ALD_ASSERT_OK_AND_ASSIGN(CudaCompiledModel model, MakeModel(input_, labels_));
  const absl::StatusOr<std::unique_ptr<Algorithm>> easgd =
      CreateAlgorithm("easgd", ContextOn(*model.train));
  EXPECT_EQ(easgd.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(easgd.status().message().find("allreduce | dpsgd | matcha | aldsgd"),
            absl::string_view::npos)
      << easgd.status();
}

}  // namespace
}  // namespace cuda
}  // namespace ald
