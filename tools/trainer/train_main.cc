#include "tools/trainer/train_main.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "graph/precision_pass.h"
#include "ops/cpu/bf16_support.h"
#include "tools/trainer/command_line_check.h"
#include "tools/trainer/exit_status.h"
#include "tools/trainer/metrics.h"
#include "tools/trainer/openmp_env.h"
#include "tools/trainer/train_config.h"
#include "tools/trainer/train_flags.h"
#include "tools/trainer/trainer.h"

namespace ald {
namespace {

// The line that says what is about to train. MPI and multi-GPU runs have one worker per
// process: their rank 0 reports instead.
// `precision_note` (empty for fp32) says how this CPU runs bf16 (ops/cpu/bf16_support.h), or
// what runs in bf16 on the GPU.
void Announce(const TrainConfig& config, const std::string& precision_note) {
  if (config.quiet || !(config.comm == "inproc" || config.workers == 1)) return;
  const std::string how =
      config.workers == 1
          ? std::string(config.comm == "nccl" ? "1 worker on one GPU, plain SGD"
                                              : "1 worker, plain SGD")
          : absl::StrCat(config.workers, " in-process workers, ", config.algo,
                         config.algo == "aldsgd" ? absl::StrCat(" over ", config.base) : "",
                         config.combine == "awc" ? " (adapt with combine)" : "", " on ",
                         config.topology);
  std::printf("training %s on %s: %s, batch %lld per worker, %lld epoch(s)%s\n",
              config.model.c_str(), config.dataset.c_str(), how.c_str(),
              static_cast<long long>(config.batch), static_cast<long long>(config.epochs),
              precision_note.empty() ? "" : absl::StrCat(", ", precision_note).c_str());
}

void ReportFinal(const TrainConfig& config, const TrainResult& result) {
  if (config.quiet) return;
  std::printf("final: test accuracy %.2f%%, train loss %.4f, %lld steps, %.0f img/s, %.1f s\n",
              100 * result.test_accuracy, result.final_train_loss,
              static_cast<long long>(result.steps), result.images_per_second,
              result.wall_seconds);
  if (config.comm == "mpi") {
    std::printf("MPI progress thread: %.2f s CPU, %.1f%% of one core per second of training\n",
                result.progress_thread_cpu_seconds,
                100 * result.progress_thread_cpu_seconds / result.wall_seconds);
  }
}

absl::Status WriteSummary(const TrainConfig& config, const TrainResult& result) {
  return WriteSummaryJson(
      config.summary_json,
      {{"model", config.model},
       {"dataset", config.dataset},
       {"workers", result.workers},
       {"epochs", result.epochs},
       {"steps", result.steps},
       {"batch", config.batch},
       {"final_train_loss", result.final_train_loss},
       {"algo", result.workers == 1 ? std::string("sgd") : config.algo},
       {"topology", config.topology},
       {"test_accuracy", result.test_accuracy},
       {"min_test_accuracy", result.min_test_accuracy},
       {"max_test_accuracy", result.max_test_accuracy},
       {"average_model_accuracy", result.average_model_accuracy},
       {"consensus_distance", result.consensus_distance},
       {"bytes_sent_per_worker", result.bytes_sent_per_worker},
       {"images_per_second", result.images_per_second},
       {"wall_seconds", result.wall_seconds},
       {"progress_thread_cpu_seconds", result.progress_thread_cpu_seconds}});
}

// Prints a failure and returns its exit status (exit_status.h).
int Fail(const absl::Status& status) {
  std::fprintf(stderr, "train: %s\n", std::string(status.message()).c_str());
  return ExitStatusFor(status);
}

int TrainAndReport(const TrainConfig& config) {
  if (absl::Status valid = ValidateConfig(config); !valid.ok()) return Fail(valid);
  std::string precision_note;
  if (config.precision == "bf16" && config.comm == "nccl") {
    precision_note = Bf16KernelsDescription(Bf16Kernels::kTensorCores);
  } else if (config.precision == "bf16") {
    absl::StatusOr<std::string> note = cpu::Bf16PrecisionNote("precision");
    if (!note.ok()) return Fail(note.status());
    precision_note = *note;
  }
  Announce(config, precision_note);
  absl::StatusOr<TrainResult> result = Train(config);
  if (!result.ok()) return Fail(result.status());
  ReportFinal(config, *result);
  if (absl::Status summary = WriteSummary(config, *result); !summary.ok()) return Fail(summary);
  return kExitDone;
}

}  // namespace

int TrainMain(int argc, char** argv) {
  RelaunchWithBoundedOpenMpSpin(argv);
  // `bazel run` starts us in the runfiles tree; relative paths (--metrics, --checkpoint_dir)
  // should mean what they mean in the user's shell.
  if (const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY"); user_dir != nullptr) {
    if (chdir(user_dir) != 0) std::perror("train: cannot enter BUILD_WORKING_DIRECTORY");
  }
  absl::SetProgramUsageMessage("Trains a model; see README.md. Example: bazel run //tools:train");
  if (absl::Status checked = CheckCommandLine(argc, argv); !checked.ok()) return Fail(checked);
  absl::ParseCommandLine(argc, argv);
  return TrainAndReport(ConfigFromFlags());
}

}  // namespace ald
