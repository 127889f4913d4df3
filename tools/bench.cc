// Training-step benchmark: compiles a model, runs forward + backward + SGD on a synthetic batch,
// and prints one JSON line (model, batch, median step ms, images/s, arena bytes, peak RSS).
// With --breakdown, the executor's per-kernel times go to stderr: where the step's time goes.
// --device=cuda runs the same step on one GPU (graph/cuda, built only under --config=cuda);
// --gpu_exchange=allreduce runs it as the pipelined all-reduce SGD step over NCCL (one rank:
// what the bucket events, the second stream and NCCL cost on top of the plain step).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/rng.h"
#include "graph/compiler.h"
#include "models/registry.h"
#include "ops/cpu/bf16_support.h"
#include "ops/sgd.h"

#ifdef ALD_WITH_CUDA
#include <utility>

#include "core/status.h"
#include "cuda_runtime_api.h"
#include "comm/inproc_communicator.h"
#include "comm/nccl_communicator.h"
#include "graph/cuda/cuda_compiler.h"
#include "comm/algorithms/cuda_bucket_device.h"
#include "comm/algorithms/registry.h"
#include "graph/cuda/cuda_step_plan.h"
#include "graph/step_scheduler.h"
#include "ops/cuda/cuda_status.h"
#endif

ABSL_FLAG(std::string, model, "resnet20", "model name (see models/registry.h)");
ABSL_FLAG(int, batch, 128, "batch size");
ABSL_FLAG(int, steps, 20, "timed steps");
ABSL_FLAG(int, warmup, 3, "untimed steps first");
ABSL_FLAG(std::string, input, "", "CxHxW of the input; default 1x28x28 for lenet, else 3x32x32");
ABSL_FLAG(int, classes, 10, "number of classes");
ABSL_FLAG(bool, fuse, true, "fold ReLUs into conv / batch norm / add");
ABSL_FLAG(bool, breakdown, false, "print per-kernel times to stderr");
ABSL_FLAG(std::string, device, "cpu", "cpu, or cuda (one GPU; needs a --config=cuda build)");
ABSL_FLAG(std::string, precision, "fp32",
          "fp32, or bf16 (activations, convolutions and linear layers in bf16; CPU only)");
ABSL_FLAG(std::string, gpu_exchange, "none",
          "--device=cuda: none (plain step), or allreduce (pipelined all-reduce SGD over NCCL, "
          "one rank)");

namespace ald {
namespace {

int64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

absl::Status ParseInput(const std::string& model, ModelOptions& options) {
  std::string spec = absl::GetFlag(FLAGS_input);
  if (spec.empty()) spec = model.rfind("lenet", 0) == 0 ? "1x28x28" : "3x32x32";
  std::vector<std::string> parts = absl::StrSplit(spec, 'x');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError("--input: expected CxHxW like 3x32x32, got '" + spec + "'");
  }
  int64_t* targets[] = {&options.channels, &options.height, &options.width};
  for (int i = 0; i < 3; ++i) {
    if (!absl::SimpleAtoi(parts[i], targets[i]) || *targets[i] <= 0) {
      return absl::InvalidArgumentError("--input: '" + parts[i] + "' in '" + spec +
                                        "' is not a positive integer");
    }
  }
  return absl::OkStatus();
}

void PrintBreakdown(const Plan& plan, int steps) {
  std::map<std::string, double> by_kind;  // "conv2d backward-weights" style groups
  double total = 0;
  for (const LaunchTiming& t : plan.Timings()) {
    total += t.total_us;
    const std::string pass = t.name.substr(t.name.rfind(' ') + 1);
    std::string layer = t.name.substr(0, t.name.rfind(' '));
    layer = layer.substr(layer.rfind('/') + 1);
    while (!layer.empty() && (std::isdigit(layer.back()) || layer.back() == '_')) layer.pop_back();
    by_kind[layer + " " + pass] += t.total_us;
  }
  std::vector<std::pair<double, std::string>> sorted;
  for (const auto& [kind, us] : by_kind) sorted.push_back({us, kind});
  std::sort(sorted.rbegin(), sorted.rend());
  std::fprintf(stderr, "per-step time by layer kind and pass (%.2f ms per step in kernels):\n",
               total / steps / 1000);
  for (const auto& [us, kind] : sorted) {
    std::fprintf(stderr, "  %-40s %8.3f ms  %5.1f%%\n", kind.c_str(), us / steps / 1000,
                 100 * us / total);
  }
}

#ifdef ALD_WITH_CUDA
// The GPU step: CudaPlan + device SGD, timed with events on the compute stream (the step's
// device time including any gap while the host enqueues; Run waits for the loss every step).
int MainCuda(const std::string& name, const ModelOptions& options, const ModelGraph& graph,
             const CompileOptions& compile) {
  auto fail = [](const absl::Status& status, int code) {
    std::fprintf(stderr, "bench: --device=cuda: %s\n", std::string(status.message()).c_str());
    return code;
  };
  if (absl::Status available = cuda::CudaDeviceAvailable(); !available.ok()) {
    return fail(available, 2);
  }
  int device = 0;
  cudaDeviceProp properties{};
  if (absl::Status s = cuda::CudaStatus(cudaGetDevice(&device), "cudaGetDevice"); !s.ok()) {
    return fail(s, 1);
  }
  if (absl::Status s = cuda::CudaStatus(cudaGetDeviceProperties(&properties, device),
                                        "cudaGetDeviceProperties");
      !s.ok()) {
    return fail(s, 1);
  }
  absl::StatusOr<cuda::CudaCompiledModel> model = cuda::CompileModelCuda(graph, compile);
  if (!model.ok()) return fail(model.status(), 1);
  cuda::CudaPlan& plan = *model->train;
  plan.host_store().Initialize(1);
  // The CPU path's batch, drawn the same way, then copied once to the device.
  Rng rng(1, 0, 0, RngStream::kTest);
  absl::StatusOr<Tensor> input = Tensor::Create(options.input_shape());
  if (!input.ok()) return fail(input.status(), 1);
  FillNormal(*input, 0, 1, rng);
  std::vector<int32_t> labels(static_cast<size_t>(options.batch));
  for (int32_t& label : labels) label = static_cast<int32_t>(rng.Below(options.classes));
  if (absl::Status s = plan.UploadState(); !s.ok()) return fail(s, 1);
  if (absl::Status s = plan.SetBatch(std::as_const(*input).values<float>(), labels); !s.ok()) {
    return fail(s, 1);
  }
  if (absl::GetFlag(FLAGS_breakdown)) {
    std::fprintf(stderr, "bench: --breakdown is not implemented for --device=cuda; ignored\n");
  }
  cpu::SgdConfig sgd{0.1f, 0.9f, false, 5e-4f};
  const std::string exchange = absl::GetFlag(FLAGS_gpu_exchange);
  if (exchange != "none" && exchange != "allreduce") {
    return fail(absl::InvalidArgumentError("--gpu_exchange: expected none or allreduce, got '" +
                                           exchange + "'"),
                2);
  }
  // One rank's NCCL world, bootstrapped in process (several GPUs would take mpirun).
  std::shared_ptr<InprocWorld> world;
  std::unique_ptr<Communicator> bootstrap, nccl;
  std::unique_ptr<BucketDevice> bucket_device;
  std::unique_ptr<Algorithm> allreduce;
  std::unique_ptr<cuda::CudaStepPlan> step_plan;
  std::unique_ptr<StepScheduler> pipelined;
  if (exchange == "allreduce") {
    absl::Status made = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(world, InprocWorld::Create(1));
      ASSIGN_OR_RETURN(bootstrap, world->Join(0));
      NcclOptions nccl_options;
      nccl_options.device = device;
      ASSIGN_OR_RETURN(nccl, CreateNcclCommunicator(*bootstrap, nccl_options));
      bucket_device = CreateCudaBucketDevice(*nccl, plan.comm_stream());
      AlgorithmContext context;
      context.comm = bootstrap.get();
      context.device = bucket_device.get();
      const size_t n = plan.num_parameters();
      context.buffers = {std::span<float>(plan.parameters(), n),
                         std::span<float>(plan.gradients(), n),
                         std::span<float>(plan.momentum(), n), {}};
      for (const Bucket& bucket : plan.buckets()) {
        context.buffers.buckets.push_back({bucket.offset, bucket.size});
      }
      ASSIGN_OR_RETURN(allreduce, CreateAlgorithm("allreduce", context));
      ASSIGN_OR_RETURN(step_plan, cuda::CudaStepPlan::Create(plan));
      pipelined = std::make_unique<StepScheduler>(*step_plan, *allreduce, /*pipelined=*/true);
      return allreduce->Start();
    }();
    if (!made.ok()) return fail(made, 1);
  }
  int64_t step_index = 0;
  auto step = [&]() -> absl::Status {
    if (pipelined == nullptr) {
      RETURN_IF_ERROR(plan.Run());
      return plan.SgdStep(sgd);
    }
    return pipelined->Step(step_index++,
                           LocalStep{sgd.lr, sgd.momentum, sgd.nesterov, sgd.weight_decay}, {});
  };
  const int warmup = absl::GetFlag(FLAGS_warmup), steps = absl::GetFlag(FLAGS_steps);
  for (int i = 0; i < warmup; ++i) {
    if (absl::Status s = step(); !s.ok()) return fail(s, 1);
  }
  cudaEvent_t start = nullptr, stop = nullptr;
  if (absl::Status s = cuda::CudaStatus(cudaEventCreate(&start), "cudaEventCreate"); !s.ok()) {
    return fail(s, 1);
  }
  if (absl::Status s = cuda::CudaStatus(cudaEventCreate(&stop), "cudaEventCreate"); !s.ok()) {
    (void)cudaEventDestroy(start);
    return fail(s, 1);
  }
  cudaStream_t stream = plan.compute_stream();
  std::vector<double> ms;
  absl::Status timed = absl::OkStatus();
  for (int i = 0; i < steps && timed.ok(); ++i) {
    float elapsed = 0;
    timed = cuda::CudaStatus(cudaEventRecord(start, stream), "cudaEventRecord");
    if (timed.ok()) timed = step();
    if (timed.ok()) timed = cuda::CudaStatus(cudaEventRecord(stop, stream), "cudaEventRecord");
    if (timed.ok()) timed = cuda::CudaStatus(cudaEventSynchronize(stop), "cudaEventSynchronize");
    if (timed.ok()) {
      timed = cuda::CudaStatus(cudaEventElapsedTime(&elapsed, start, stop), "cudaEventElapsedTime");
    }
    ms.push_back(elapsed);
  }
  (void)cudaEventDestroy(start);
  (void)cudaEventDestroy(stop);
  if (!timed.ok()) return fail(timed, 1);
  if (ms.empty()) ms.push_back(0);
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::printf(
      "{\"framework\": \"aldsgd\", \"device\": \"cuda\", \"gpu\": \"%s\", \"exchange\": \"%s\", "
      "\"model\": \"%s\", "
      "\"batch\": %d, \"steps\": %d, \"input\": \"%lldx%lldx%lld\", \"fuse\": %s, "
      "\"median_step_ms\": %.3f, \"min_step_ms\": %.3f, \"img_per_s\": %.1f, "
      "\"arena_bytes\": %zu, \"peak_live_bytes\": %zu, \"params\": %lld, "
      "\"peak_rss_bytes\": %lld, \"loss\": %.6f}\n",
      properties.name, exchange.c_str(), name.c_str(), static_cast<int>(options.batch), steps,
      static_cast<long long>(options.channels), static_cast<long long>(options.height),
      static_cast<long long>(options.width), compile.fuse ? "true" : "false", median, sorted[0],
      median > 0 ? options.batch * 1000.0 / median : 0.0, plan.arena_bytes(),
      plan.peak_live_bytes(), static_cast<long long>(graph.NumParameters()),
      static_cast<long long>(PeakRssBytes()), plan.loss());
  return 0;
}
#endif  // ALD_WITH_CUDA

int Main() {
  const std::string name = absl::GetFlag(FLAGS_model);
  ModelOptions options;
  options.batch = absl::GetFlag(FLAGS_batch);
  options.classes = absl::GetFlag(FLAGS_classes);
  if (absl::Status parsed = ParseInput(name, options); !parsed.ok()) {
    std::fprintf(stderr, "bench: %s\n", std::string(parsed.message()).c_str());
    return 2;
  }
  const std::string device = absl::GetFlag(FLAGS_device);
  if (device != "cpu" && device != "cuda") {
    std::fprintf(stderr, "bench: --device: expected cpu or cuda, got '%s'\n", device.c_str());
    return 2;
  }
  const std::string precision_name = absl::GetFlag(FLAGS_precision);
  const std::optional<Precision> precision = ParsePrecision(precision_name);
  if (!precision.has_value()) {
    std::fprintf(stderr, "bench: --precision: expected fp32 or bf16, got '%s'\n",
                 precision_name.c_str());
    return 2;
  }
  if (*precision == Precision::kBF16 && device == "cuda") {
    std::fprintf(stderr, "bench: %s\n", Bf16KernelsDescription(Bf16Kernels::kTensorCores));
  } else if (*precision == Precision::kBF16) {
    absl::StatusOr<std::string> note = cpu::Bf16PrecisionNote("precision");
    if (!note.ok()) {
      std::fprintf(stderr, "bench: %s\n", std::string(note.status().message()).c_str());
      return 2;
    }
    std::fprintf(stderr, "bench: %s\n", note->c_str());
  }
  absl::StatusOr<ModelGraph> graph = BuildModel(name, options);
  CompileOptions compile;
  compile.fuse = absl::GetFlag(FLAGS_fuse);
  compile.precision = *precision;
  if (device == "cuda") {
#ifdef ALD_WITH_CUDA
    if (!graph.ok()) {
      std::fprintf(stderr, "bench: %s\n", std::string(graph.status().message()).c_str());
      return 1;
    }
    return MainCuda(name, options, *graph, compile);
#else
    std::fprintf(stderr,
                 "bench: --device=cuda: built without --config=cuda; rebuild with "
                 "bazel build --config=cuda //tools:bench\n");
    return 2;
#endif
  }
  absl::StatusOr<CompiledModel> model =
      graph.ok() ? CompileModel(*graph, nullptr, compile) : graph.status();
  if (!model.ok()) {
    std::fprintf(stderr, "bench: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  Plan& plan = *model->train;
  model->store->Initialize(1);
  Rng rng(1, 0, 0, RngStream::kTest);
  FillNormal(plan.input(), 0, 1, rng);
  for (int32_t& label : plan.labels().values<int32_t>()) {
    label = static_cast<int32_t>(rng.Below(options.classes));
  }
  cpu::SgdConfig sgd{0.1f, 0.9f, false, 5e-4f};
  auto step = [&]() -> absl::Status {
    absl::Status status = plan.Run();
    if (!status.ok()) return status;
    return cpu::SgdStep(sgd, model->store->parameters(), model->store->gradients(),
                        model->store->momentum());
  };
  const int warmup = absl::GetFlag(FLAGS_warmup), steps = absl::GetFlag(FLAGS_steps);
  for (int i = 0; i < warmup; ++i) {
    if (absl::Status s = step(); !s.ok()) {
      std::fprintf(stderr, "bench: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  plan.EnableTiming(absl::GetFlag(FLAGS_breakdown));
  std::vector<double> ms;
  for (int i = 0; i < steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (absl::Status s = step(); !s.ok()) {
      std::fprintf(stderr, "bench: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                           start)
                     .count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  if (absl::GetFlag(FLAGS_breakdown)) PrintBreakdown(plan, steps);
  std::printf(
      "{\"framework\": \"aldsgd\", \"model\": \"%s\", \"precision\": \"%s\", "
      "\"batch\": %d, \"steps\": %d, "
      "\"input\": \"%lldx%lldx%lld\", \"fuse\": %s, \"median_step_ms\": %.3f, "
      "\"min_step_ms\": %.3f, \"img_per_s\": %.1f, \"arena_bytes\": %zu, "
      "\"peak_live_bytes\": %zu, \"params\": %lld, \"peak_rss_bytes\": %lld}\n",
      name.c_str(), precision_name.c_str(), static_cast<int>(options.batch), steps,
      static_cast<long long>(options.channels), static_cast<long long>(options.height),
      static_cast<long long>(options.width), compile.fuse ? "true" : "false", median, sorted[0],
      options.batch * 1000.0 / median, plan.arena_bytes(), plan.peak_live_bytes(),
      static_cast<long long>(graph->NumParameters()), static_cast<long long>(PeakRssBytes()));
  return 0;
}

}  // namespace
}  // namespace ald

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ald::Main();
}
