// Times the convolution primitives of ResNet-20 (CIFAR, batch 128) in the graph's layouts
// (data reordered beforehand, bridges not counted) and relates them to this machine's fp32 peak,
// measured in the same run with a large oneDNN matmul. Prints a table and one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/conv2d.h"
#include "ops/cpu/conv2d.h"
#include "ops/cpu/dnnl_util.h"
#include "ops/cpu/layout.h"

ABSL_FLAG(std::string, layout, "blocked",
          "activations between layers: blocked (the CPU's native channel blocking, as the graph "
          "compiler chooses) or plain (NCHW)");

namespace ald {
namespace {

constexpr int kWarmup = 3;
constexpr int kRepetitions = 10;
constexpr int64_t kBatch = 128;

struct ConvLayer {
  const char* name;
  int64_t in_channels, out_channels, size, stride;
};

// The distinct 3x3 convolutions of ResNet-20 on 32x32 inputs (padding 1, no bias: BN follows).
const ConvLayer kLayers[] = {
    {"stem 3->16 s1 @32", 3, 16, 32, 1},    {"16->16 s1 @32", 16, 16, 32, 1},
    {"16->32 s2 32->16", 16, 32, 32, 2},    {"32->32 s1 @16", 32, 32, 16, 1},
    {"32->64 s2 16->8", 32, 64, 16, 2},     {"64->64 s1 @8", 64, 64, 8, 1},
};

// Wall times of `body` in milliseconds: the median, and the fastest run, which is what the
// machine can do when no other process preempts the two OpenMP threads (on a shared, busy
// machine the median can be a scheduler time slice).
struct Timing {
  double median_ms = -1, min_ms = -1;
};

Timing TimeMs(int repetitions, const std::function<absl::Status()>& body) {
  for (int i = 0; i < kWarmup; ++i) {
    if (!body().ok()) return {};
  }
  std::vector<double> times;
  for (int i = 0; i < repetitions; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (!body().ok()) return {};
    cpu::Stream().wait();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times.front()};
}

// A buffer in `desc`'s layout filled with small values (padding included, so no NaNs appear).
dnnl::memory FilledMemory(const dnnl::memory::desc& desc) {
  dnnl::memory memory(desc, cpu::Engine());
  float* data = static_cast<float*>(memory.get_data_handle());
  const size_t count = desc.get_size() / sizeof(float);
  for (size_t i = 0; i < count; ++i) data[i] = static_cast<float>(i % 17) * 0.01f - 0.08f;
  return memory;
}

struct PeakRate {
  double median_gflops, best_gflops;
};

// The fp32 peak we compare against: a 2048^3 oneDNN matmul (2 * 2048^3 flops), 5 runs.
PeakRate MeasurePeak() {
  const int64_t n = 2048;
  const dnnl::memory::desc square = cpu::PlainDesc(Shape{n, n});
  dnnl::matmul matmul(dnnl::matmul::primitive_desc({square, square, square}, cpu::Engine()));
  dnnl::memory a = FilledMemory(square), b = FilledMemory(square), c = FilledMemory(square);
  const Timing ms = TimeMs(5, [&] {
    return cpu::GuardDnnl("matmul", [&] {
      matmul.execute(cpu::Stream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
      return absl::OkStatus();
    });
  });
  const double flops = 2.0 * n * n * n;
  return {flops / (ms.median_ms * 1e6), flops / (ms.min_ms * 1e6)};
}

struct PassResult {
  std::string layer, pass;
  double ms, gflops, of_peak, min_ms, best_gflops;
};

// "blocked" when a primitive chose a layout other than the plain one for this tensor.
const char* LayoutName(const dnnl::memory::desc& chosen, const Shape& shape) {
  return chosen == cpu::PlainDesc(shape) ? "plain" : "blocked";
}

int Run() {
  const PeakRate peak_rate = MeasurePeak();
  const double peak = peak_rate.median_gflops;
  absl::PrintF("fp32 peak (oneDNN matmul 2048^3, 5 runs): median %.1f GFLOP/s, best %.1f\n\n",
               peak, peak_rate.best_gflops);
  absl::PrintF("%-20s %-16s %9s %10s %8s %9s %10s  %s\n", "layer (batch 128)", "pass",
               "median ms", "GFLOP/s", "of peak", "best ms", "GFLOP/s", "layouts src/weights/dst");
  std::vector<PassResult> results;
  for (const ConvLayer& layer : kLayers) {
    Conv2dAttrs attrs;
    attrs.stride = {layer.stride, layer.stride};
    attrs.padding = {1, 1};
    attrs.bias = false;
    const Shape input{kBatch, layer.in_channels, layer.size, layer.size};
    const Shape weight{layer.out_channels, layer.in_channels, 3, 3};
    // The layouts the graph compiler uses: the CPU's native channel blocking (nChw16c with
    // AVX-512, nChw8c below) wherever the channels allow (the stem reads the plain input image);
    // --layout=plain for NCHW throughout, to compare.
    auto layout_for = [](int64_t channels) {
      const cpu::ActivationLayout blocked = cpu::NativeBlockedLayout();
      return channels % cpu::ChannelBlock(blocked) == 0 && absl::GetFlag(FLAGS_layout) != "plain"
                 ? blocked
                 : cpu::ActivationLayout::kPlain;
    };
    absl::StatusOr<std::unique_ptr<cpu::Conv2dCpu>> kernel = cpu::Conv2dCpu::Create(
        input, weight, attrs, layout_for(layer.in_channels), layout_for(layer.out_channels));
    if (!kernel.ok()) {
      absl::FPrintF(stderr, "%s\n", kernel.status().ToString());
      return 1;
    }
    cpu::Conv2dCpu::Passes& passes = (*kernel)->passes();
    const Shape& out = (*kernel)->shapes().output;
    const double flops = 2.0 * kBatch * layer.out_channels * layer.in_channels * 9 * out[2] * out[3];
    const auto& fwd = passes.forward_pd();
    const auto& bwd_data = passes.backward_data_pd();
    const auto& bwd_weights = passes.backward_weights_pd();
    dnnl::memory src = FilledMemory(fwd.src_desc()), weights = FilledMemory(fwd.weights_desc()),
                 dst = FilledMemory(fwd.dst_desc());
    dnnl::memory bd_diff_dst = FilledMemory(bwd_data.diff_dst_desc()),
                 bd_weights = FilledMemory(bwd_data.weights_desc()),
                 bd_diff_src = FilledMemory(bwd_data.diff_src_desc());
    dnnl::memory bw_src = FilledMemory(bwd_weights.src_desc()),
                 bw_diff_dst = FilledMemory(bwd_weights.diff_dst_desc()),
                 bw_diff_weights = FilledMemory(bwd_weights.diff_weights_desc());
    const std::vector<std::pair<std::string, std::function<absl::Status()>>> timed = {
        {"forward", [&] { return passes.ForwardNative(src, weights, {}, dst); }},
        {"backward-data",
         [&] { return passes.BackwardDataNative(bd_diff_dst, bd_weights, bd_diff_src); }},
        {"backward-weights",
         [&] { return passes.BackwardWeightsNative(bw_src, bw_diff_dst, bw_diff_weights, {}); }},
    };
    const std::string layouts =
        absl::StrCat(LayoutName(fwd.src_desc(), input), "/",
                     LayoutName(fwd.weights_desc(), weight), "/", LayoutName(fwd.dst_desc(), out));
    for (const auto& [pass, body] : timed) {
      const Timing ms = TimeMs(kRepetitions, body);
      if (ms.median_ms < 0) {
        absl::FPrintF(stderr, "%s %s failed: %s\n", layer.name, pass, body().ToString());
        return 1;
      }
      const double gflops = flops / (ms.median_ms * 1e6), best = flops / (ms.min_ms * 1e6);
      results.push_back({layer.name, pass, ms.median_ms, gflops, gflops / peak, ms.min_ms, best});
      absl::PrintF("%-20s %-16s %9.3f %10.1f %7.1f%% %9.3f %10.1f  %s\n", layer.name, pass,
                   ms.median_ms, gflops, 100 * gflops / peak, ms.min_ms, best,
                   pass == "forward" ? layouts : "");
    }
  }
  std::vector<std::string> entries;
  for (const PassResult& r : results) {
    entries.push_back(absl::StrFormat(
        R"({"layer":"%s","pass":"%s","median_ms":%.4f,"gflops":%.2f,"fraction_of_peak":%.4f,)"
        R"("min_ms":%.4f,"best_gflops":%.2f})",
        r.layer, r.pass, r.ms, r.gflops, r.of_peak, r.min_ms, r.best_gflops));
  }
  absl::PrintF(
      "\n{\"bench\":\"conv2d_resnet20_batch128\",\"peak_gflops\":%.2f,"
      "\"best_peak_gflops\":%.2f,\"results\":[%s]}\n",
      peak, peak_rate.best_gflops, absl::StrJoin(entries, ","));
  return 0;
}

}  // namespace
}  // namespace ald

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ald::Run();
}
