// Memory throughput of the per-bucket kernels (SGD step, 3-way weighted sum, axpy, scale) on
// buffers the size of ResNet-20 (269,722 floats) and VGG-11 (9,228,362 floats), next to memcpy
// as the machine's bandwidth and oneDNN's sum (scales fixed at creation) as the library's.
// Run: bazel run -c opt //ops:mixing_bench
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "benchmark/benchmark.h"
#include "ops/cpu/dnnl_util.h"
#include "ops/mixing.h"
#include "ops/sgd.h"

namespace ald {
namespace {

constexpr int64_t kResNet20 = 269722;
constexpr int64_t kVgg11 = 9228362;

// Bytes moved per call, reported as decimal GB per second of wall time (oneDNN's kernels run on
// several threads, so CPU time of the calling thread would flatter them).
void ReportTraffic(benchmark::State& state, int64_t floats_moved) {
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(floats_moved) * sizeof(float) * state.iterations() / 1e9,
      benchmark::Counter::kIsRate);
}

void BM_Memcpy(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> from(n, 1.f), to(n);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), n * sizeof(float));
    benchmark::DoNotOptimize(to.data());
  }
  ReportTraffic(state, 2 * n);
}

// range(1): 0 = plain SGD with weight decay (the authors' runs), 1 = Nesterov momentum.
void BM_SgdStep(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool momentum = state.range(1) != 0;
  const cpu::SgdConfig config{.lr = 1e-3f,
                              .momentum = momentum ? 0.9f : 0.f,
                              .nesterov = momentum,
                              .weight_decay = 5e-4f};
  std::vector<float> x(n, 1.f), g(n, 1e-3f), buf(momentum ? n : 0, 0.f);
  for (auto _ : state) {
    if (!cpu::SgdStep(config, x, g, buf).ok()) state.SkipWithError("SgdStep failed");
    benchmark::DoNotOptimize(x.data());
  }
  // Reads x, g (and buf); writes x (and buf).
  ReportTraffic(state, (momentum ? 5 : 3) * n);
}

// The mixing step x_0 ← Σ_j w_j·y_j with out = input 0, as the algorithms run it.
void BM_WeightedSum3(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> own(n, 1.f), left(n, 2.f), right(n, 3.f);
  const std::vector<std::span<const float>> inputs = {own, left, right};
  const std::vector<float> weights = {0.5f, 0.25f, 0.25f};
  auto sum = cpu::WeightedSumCpu::Create(3, n);
  if (!sum.ok()) return state.SkipWithError("WeightedSumCpu::Create failed");
  for (auto _ : state) {
    if (!(*sum)->Run(weights, inputs, own).ok()) state.SkipWithError("Run failed");
    benchmark::DoNotOptimize(own.data());
  }
  ReportTraffic(state, 4 * n);
}

// For comparison only: oneDNN's sum, whose scales are fixed when it is created.
void BM_OneDnnSum3FixedWeights(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> own(n, 1.f), left(n, 2.f), right(n, 3.f);
  const dnnl::memory::desc desc = cpu::PlainDesc(Shape{n});
  dnnl::sum sum(dnnl::sum::primitive_desc(desc, {0.5f, 0.25f, 0.25f}, {desc, desc, desc},
                                          cpu::Engine()));
  dnnl::memory own_memory(desc, cpu::Engine(), own.data());
  const std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_MULTIPLE_SRC, own_memory},
      {DNNL_ARG_MULTIPLE_SRC + 1, dnnl::memory(desc, cpu::Engine(), left.data())},
      {DNNL_ARG_MULTIPLE_SRC + 2, dnnl::memory(desc, cpu::Engine(), right.data())},
      {DNNL_ARG_DST, own_memory}};
  for (auto _ : state) {
    sum.execute(cpu::Stream(), args);
    cpu::Stream().wait();
  }
  ReportTraffic(state, 4 * n);
}

void BM_Axpy(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> x(n, 1.f), y(n, 1.f);
  auto axpy = cpu::AxpyCpu::Create(n);
  if (!axpy.ok()) return state.SkipWithError("AxpyCpu::Create failed");
  for (auto _ : state) {
    if (!(*axpy)->Run(1e-3f, x, y).ok()) state.SkipWithError("Run failed");
  }
  ReportTraffic(state, 3 * n);
}

void BM_Scale(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> x(n, 1.f);
  auto scale = cpu::ScaleCpu::Create(n);
  if (!scale.ok()) return state.SkipWithError("ScaleCpu::Create failed");
  for (auto _ : state) {
    if (!(*scale)->Run(1.f, x).ok()) state.SkipWithError("Run failed");
  }
  ReportTraffic(state, 2 * n);
}

BENCHMARK(BM_Memcpy)->Arg(kResNet20)->Arg(kVgg11)->UseRealTime();
BENCHMARK(BM_SgdStep)->ArgsProduct({{kResNet20, kVgg11}, {0, 1}})->UseRealTime();
BENCHMARK(BM_WeightedSum3)->Arg(kResNet20)->Arg(kVgg11)->UseRealTime();
BENCHMARK(BM_OneDnnSum3FixedWeights)->Arg(kResNet20)->Arg(kVgg11)->UseRealTime();
BENCHMARK(BM_Axpy)->Arg(kResNet20)->Arg(kVgg11)->UseRealTime();
BENCHMARK(BM_Scale)->Arg(kResNet20)->Arg(kVgg11)->UseRealTime();

}  // namespace
}  // namespace ald

BENCHMARK_MAIN();
