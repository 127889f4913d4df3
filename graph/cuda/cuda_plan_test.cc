// One GPU training step against the CPU plan on the same parameters and batch: loss, correct
// count and every parameter gradient; bucket events in order; no allocation after compiling.
#include "graph/cuda/cuda_plan.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/rng.h"
#include "cuda_runtime_api.h"
#include "graph/compiler.h"
#include "graph/cuda/cuda_compiler.h"
#include "gtest/gtest.h"
#include "models/registry.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/cuda_testing.h"

namespace ald::cuda {
namespace {

ModelOptions Tiny(int64_t channels, int64_t size) {
  ModelOptions options;
  options.batch = 4;
  options.channels = channels;
  options.height = options.width = size;
  options.classes = 5;
  return options;
}

CompileOptions Options() {
  CompileOptions options;
  options.blocked_layouts = false;  // the GPU keeps NCHW; the CPU result does not depend on it
  options.min_buckets = 3;          // several buckets, so their order is tested
  return options;
}

// Compiles `name` for both devices from the same initial parameters and batch, runs one step on
// each and compares them.
void ExpectStepMatchesCpu(const std::string& name, const ModelOptions& model_options) {
  absl::StatusOr<ModelGraph> graph = BuildModel(name, model_options);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const CompileOptions options = Options();
  constexpr uint64_t kSeed = 5;

  absl::StatusOr<CompiledModel> cpu = CompileModel(*graph, nullptr, options);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  cpu->store->Initialize(kSeed);
  Plan& cpu_plan = *cpu->train;
  Rng rng(kSeed, 0, 0, RngStream::kTest);
  FillNormal(cpu_plan.input(), 0, 1, rng);
  for (int32_t& label : cpu_plan.labels().values<int32_t>()) {
    label = static_cast<int32_t>(rng.Below(static_cast<uint32_t>(model_options.classes)));
  }

  absl::StatusOr<CudaCompiledModel> gpu = CompileModelCuda(*graph, options);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  CudaPlan& gpu_plan = *gpu->train;
  gpu_plan.host_store().Initialize(kSeed);
  ALD_ASSERT_OK(gpu_plan.UploadState());
  ALD_ASSERT_OK(gpu_plan.SetBatch(std::as_const(cpu_plan.input()).values<float>(),
                                  std::as_const(cpu_plan.labels()).values<int32_t>()));
  ASSERT_EQ(gpu_plan.num_buckets(), cpu_plan.num_buckets());
  ASSERT_GT(gpu_plan.num_buckets(), 1);

  std::vector<int> ready;
  gpu_plan.SetBucketReadyCallback([&](int bucket) {
    ready.push_back(bucket);
    // The event is recorded before the callback: it can already be waited on.
    return CudaStatus(cudaStreamWaitEvent(gpu_plan.comm_stream(),
                                          gpu_plan.bucket_ready_event(bucket), 0),
                      "cudaStreamWaitEvent");
  });

  ALD_ASSERT_OK(cpu_plan.Run());
  ALD_ASSERT_OK(gpu_plan.Run());

  std::vector<int> ascending(static_cast<size_t>(gpu_plan.num_buckets()));
  for (size_t b = 0; b < ascending.size(); ++b) ascending[b] = static_cast<int>(b);
  EXPECT_EQ(ready, ascending) << "bucket-ready callbacks: once per bucket, in ascending order";

  EXPECT_NEAR(gpu_plan.loss(), cpu_plan.loss(), 1e-4 * std::abs(cpu_plan.loss()));
  EXPECT_EQ(gpu_plan.correct(), cpu_plan.correct());

  ALD_ASSERT_OK(gpu_plan.DownloadState());
  ParameterStore& cpu_store = *cpu->store;
  ParameterStore& gpu_store = gpu_plan.host_store();
  ASSERT_EQ(cpu_store.layout(), gpu_store.layout());
  for (ValueId p : cpu_store.layout()) {
    const ValueId g = gpu->training_graph.grad[p];
    std::span<const float> want = std::as_const(cpu_store.View(g)).values<float>();
    std::span<const float> got = std::as_const(gpu_store.View(g)).values<float>();
    ASSERT_EQ(want.size(), got.size());
    double scale = 0, error = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      scale = std::max(scale, std::abs(static_cast<double>(want[i])));
      error = std::max(error, std::abs(static_cast<double>(got[i]) - want[i]));
    }
    EXPECT_LE(error, 1e-3 * std::max(scale, 1e-12))
        << cpu_store.name(p) << ": max |gpu - cpu| " << error << ", max |cpu| " << scale;
  }

  // A second step on the same parameters: no device memory taken, the same loss.
  size_t free_before = 0, free_after = 0, total = 0;
  ALD_ASSERT_OK(CudaStatus(cudaMemGetInfo(&free_before, &total), "cudaMemGetInfo"));
  const int allocations = gpu_plan.device_allocations();
  const float first_loss = gpu_plan.loss();
  ready.clear();
  ALD_ASSERT_OK(gpu_plan.Run());
  ALD_ASSERT_OK(CudaStatus(cudaMemGetInfo(&free_after, &total), "cudaMemGetInfo"));
  EXPECT_EQ(free_after, free_before) << "the second Run allocated device memory";
  EXPECT_EQ(gpu_plan.device_allocations(), allocations);
  EXPECT_EQ(ready, ascending);
  EXPECT_NEAR(gpu_plan.loss(), first_loss, 1e-6 * std::abs(first_loss));

  // The device SGD step runs on the flat buffers and changes the parameters.
  ALD_ASSERT_OK(gpu_plan.SgdStep(cpu::SgdConfig{0.1f, 0.9f, false, 5e-4f}));
  const std::vector<float> before(gpu_store.parameters().begin(), gpu_store.parameters().end());
  ALD_ASSERT_OK(gpu_plan.DownloadState());
  EXPECT_NE(before, std::vector<float>(gpu_store.parameters().begin(),
                                       gpu_store.parameters().end()));
}

TEST(CudaPlanTest, Lenet5StepMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  ExpectStepMatchesCpu("lenet5", Tiny(1, 12));
}

TEST(CudaPlanTest, Resnet8StepMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  ExpectStepMatchesCpu("resnet8", Tiny(3, 8));
}

// Runs on machines without a GPU (where the others skip): compiling is a clear error.
TEST(CudaPlanTest, CompileWithoutDeviceIsUnavailable) {
  if (CudaDeviceAvailable().ok()) GTEST_SKIP() << "a CUDA device is present";
  absl::StatusOr<ModelGraph> graph = BuildModel("lenet5", Tiny(1, 12));
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<CudaCompiledModel> gpu = CompileModelCuda(*graph, Options());
  ASSERT_FALSE(gpu.ok());
  EXPECT_EQ(gpu.status().code(), absl::StatusCode::kUnavailable) << gpu.status();
  EXPECT_NE(gpu.status().message().find("compile for CUDA: no CUDA device"),
            absl::string_view::npos)
      << gpu.status();
}

}  // namespace
}  // namespace ald::cuda
