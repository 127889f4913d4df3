#include "tools/trainer/train_main.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "tools/trainer/metrics.h"
#include "tools/trainer/openmp_env.h"
#include "tools/trainer/train_config.h"
#include "tools/trainer/trainer.h"

namespace {
const ald::TrainConfig kDefaults;
}

ABSL_FLAG(std::string, model, kDefaults.model, "model: resnet20/32/44/56/110, resnet18, vgg11/13/16, lenet5");
ABSL_FLAG(std::string, dataset, kDefaults.dataset, "fashion_mnist | cifar10 | synthetic");
ABSL_FLAG(std::string, data_dir, "", "data directory (default for fashion_mnist: /usr/share/datasets/fashion-mnist)");
ABSL_FLAG(int64_t, pad, kDefaults.pad,
          "zero border in pixels around every image (--pad=2: Fashion-MNIST at 32x32, for VGG)");
ABSL_FLAG(bool, augment, kDefaults.augment, "CIFAR-style random crop (4-pixel padding) and flip");
ABSL_FLAG(int64_t, batch, kDefaults.batch, "batch size per worker");
ABSL_FLAG(double, lr, kDefaults.lr, "learning rate");
ABSL_FLAG(double, momentum, kDefaults.momentum, "SGD momentum");
ABSL_FLAG(double, weight_decay, kDefaults.weight_decay, "L2 weight decay");
ABSL_FLAG(bool, nesterov, kDefaults.nesterov, "Nesterov momentum");
ABSL_FLAG(std::string, lr_schedule, kDefaults.lr_schedule, "constant | step (x0.1 at 50% and 75%) | cosine");
ABSL_FLAG(double, warmup_epochs, kDefaults.warmup_epochs, "linear learning-rate warm-up, in epochs");
ABSL_FLAG(int64_t, epochs, kDefaults.epochs, "epochs");
ABSL_FLAG(int64_t, steps, kDefaults.steps, "stop after this many steps (0: all epochs); for smoke runs");
ABSL_FLAG(uint64_t, seed, kDefaults.seed, "seed of initialisation, data order, augmentation, dropout");
ABSL_FLAG(int64_t, eval_every, kDefaults.eval_every, "evaluate every N steps (0: every epoch)");
ABSL_FLAG(int64_t, eval_batch, kDefaults.eval_batch, "evaluation batch size");
ABSL_FLAG(std::string, metrics, "", "write metrics CSV here");
ABSL_FLAG(std::string, summary_json, "", "write the final metrics as JSON here");
ABSL_FLAG(std::string, checkpoint_dir, "", "save checkpoints here");
ABSL_FLAG(int64_t, checkpoint_every, kDefaults.checkpoint_every, "checkpoint every N steps (0: every epoch)");
ABSL_FLAG(bool, resume, false, "continue from the latest checkpoint in --checkpoint_dir");
ABSL_FLAG(int, workers, kDefaults.workers, "in-process workers (with --comm=mpi: one per process)");
ABSL_FLAG(std::string, comm, kDefaults.comm, "inproc | mpi | nccl");
ABSL_FLAG(std::string, algo, kDefaults.algo, "allreduce | dpsgd | matcha | aldsgd | easgd | lsgd | adpsgd");
ABSL_FLAG(std::string, topology, kDefaults.topology,
          "ring | torus | complete | star | matcha8 | random-regular:D | erdos-renyi:P | file:PATH");
ABSL_FLAG(double, budget, kDefaults.budget, "MATCHA communication budget c_b in (0, 1]");
ABSL_FLAG(int, graphs, kDefaults.graphs, "AL-DSGD: K relabelled graph copies, step t uses t mod K");
ABSL_FLAG(std::string, base, kDefaults.base, "AL-DSGD's base algorithm: dpsgd | matcha");
ABSL_FLAG(std::string, aldsgd_form, kDefaults.aldsgd_form, "AL-DSGD: code (the authors' runs) | paper");
ABSL_FLAG(std::string, combine, kDefaults.combine,
          "D-PSGD / MATCHA / AL-DSGD (code form): atc = local step, then average the stepped "
          "models (the authors' code) | awc = average the pre-step models plus the own step "
          "(Lian et al.; its exchange overlaps the whole step)");
ABSL_FLAG(double, c1, kDefaults.c1, "AL-DSGD: weight of the adjacent leader (lowest loss)");
ABSL_FLAG(double, c2, kDefaults.c2, "AL-DSGD: weight of the max-degree neighbour");
ABSL_FLAG(double, p1, kDefaults.p1, "AL-DSGD: pull toward the adjacent leader");
ABSL_FLAG(double, p2, kDefaults.p2, "AL-DSGD: pull toward the max-degree neighbour");
ABSL_FLAG(bool, sync_init, kDefaults.sync_init, "all workers start from rank 0's parameters");
ABSL_FLAG(int, tau, kDefaults.tau, "EASGD / LSGD communication period in steps");
ABSL_FLAG(double, rho, kDefaults.rho, "EASGD moving rate beta (alpha = beta / workers)");
ABSL_FLAG(double, lambda, kDefaults.lambda, "LSGD pull strength toward the leader");
ABSL_FLAG(double, timeout, kDefaults.timeout_seconds, "seconds a worker waits for a peer before failing");
ABSL_FLAG(double, bucket_mb, kDefaults.bucket_mb, "communication bucket size cap in MiB (as PyTorch DDP)");
ABSL_FLAG(int, min_buckets, kDefaults.min_buckets,
          "split the parameters into at least this many buckets (a model smaller than the cap "
          "still pipelines); 1: only the cap");
ABSL_FLAG(bool, pipeline, kDefaults.pipeline,
          "overlap each bucket's update and exchange with the rest of backward (false: sequential)");
ABSL_FLAG(bool, reproducible_sums, kDefaults.reproducible_sums,
          "all-reduce sums in rank order on every backend (bitwise reproducible; MPI sends more)");
ABSL_FLAG(bool, quiet, false, "no progress lines");
ABSL_FLAG(std::string, trace, "",
          "write a Chrome trace (Perfetto, chrome://tracing) of every kernel, bucket update, send, "
          "receive and wait here; `bazel run //tools:overlap -- FILE` summarises it");

namespace ald {
namespace {

TrainConfig FromFlags() {
  TrainConfig c;
  c.model = absl::GetFlag(FLAGS_model);
  c.dataset = absl::GetFlag(FLAGS_dataset);
  c.data_dir = absl::GetFlag(FLAGS_data_dir);
  c.pad = absl::GetFlag(FLAGS_pad);
  c.augment = absl::GetFlag(FLAGS_augment);
  c.batch = absl::GetFlag(FLAGS_batch);
  c.lr = absl::GetFlag(FLAGS_lr);
  c.momentum = absl::GetFlag(FLAGS_momentum);
  c.weight_decay = absl::GetFlag(FLAGS_weight_decay);
  c.nesterov = absl::GetFlag(FLAGS_nesterov);
  c.lr_schedule = absl::GetFlag(FLAGS_lr_schedule);
  c.warmup_epochs = absl::GetFlag(FLAGS_warmup_epochs);
  c.epochs = absl::GetFlag(FLAGS_epochs);
  c.steps = absl::GetFlag(FLAGS_steps);
  c.seed = absl::GetFlag(FLAGS_seed);
  c.eval_every = absl::GetFlag(FLAGS_eval_every);
  c.eval_batch = absl::GetFlag(FLAGS_eval_batch);
  c.metrics = absl::GetFlag(FLAGS_metrics);
  c.summary_json = absl::GetFlag(FLAGS_summary_json);
  c.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  c.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  c.resume = absl::GetFlag(FLAGS_resume);
  c.workers = absl::GetFlag(FLAGS_workers);
  c.comm = absl::GetFlag(FLAGS_comm);
  c.algo = absl::GetFlag(FLAGS_algo);
  c.topology = absl::GetFlag(FLAGS_topology);
  c.budget = absl::GetFlag(FLAGS_budget);
  c.graphs = absl::GetFlag(FLAGS_graphs);
  c.base = absl::GetFlag(FLAGS_base);
  c.aldsgd_form = absl::GetFlag(FLAGS_aldsgd_form);
  c.combine = absl::GetFlag(FLAGS_combine);
  c.c1 = absl::GetFlag(FLAGS_c1);
  c.c2 = absl::GetFlag(FLAGS_c2);
  c.p1 = absl::GetFlag(FLAGS_p1);
  c.p2 = absl::GetFlag(FLAGS_p2);
  c.sync_init = absl::GetFlag(FLAGS_sync_init);
  c.tau = absl::GetFlag(FLAGS_tau);
  c.rho = absl::GetFlag(FLAGS_rho);
  c.lambda = absl::GetFlag(FLAGS_lambda);
  c.timeout_seconds = absl::GetFlag(FLAGS_timeout);
  c.bucket_mb = absl::GetFlag(FLAGS_bucket_mb);
  c.min_buckets = absl::GetFlag(FLAGS_min_buckets);
  c.pipeline = absl::GetFlag(FLAGS_pipeline);
  c.reproducible_sums = absl::GetFlag(FLAGS_reproducible_sums);
  c.quiet = absl::GetFlag(FLAGS_quiet);
  c.trace = absl::GetFlag(FLAGS_trace);
  return c;
}

// The line that says what is about to train. MPI and multi-GPU runs have one worker per
// process: their rank 0 reports instead.
void Announce(const TrainConfig& config) {
  if (config.quiet || !(config.comm == "inproc" || config.workers == 1)) return;
  const std::string how =
      config.workers == 1
          ? std::string(config.comm == "nccl" ? "1 worker on one GPU, plain SGD"
                                              : "1 worker, plain SGD")
          : absl::StrCat(config.workers, " in-process workers, ", config.algo,
                         config.algo == "aldsgd" ? absl::StrCat(" over ", config.base) : "",
                         config.combine == "awc" ? " (adapt with combine)" : "", " on ",
                         config.topology);
  std::printf("training %s on %s: %s, batch %lld per worker, %lld epoch(s)\n",
              config.model.c_str(), config.dataset.c_str(), how.c_str(),
              static_cast<long long>(config.batch), static_cast<long long>(config.epochs));
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
       {"workers", static_cast<int64_t>(config.workers)},
       {"epochs", result.epochs},
       {"steps", result.steps},
       {"batch", config.batch},
       {"final_train_loss", result.final_train_loss},
       {"algo", config.workers == 1 ? std::string("sgd") : config.algo},
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

// The exit status: 0 done, 2 bad flags or data, 1 a failure while training.
int TrainAndReport(const TrainConfig& config) {
  if (absl::Status valid = ValidateConfig(config); !valid.ok()) {
    std::fprintf(stderr, "train: %s\n", std::string(valid.message()).c_str());
    return 2;
  }
  Announce(config);
  absl::StatusOr<TrainResult> result = Train(config);
  if (!result.ok()) {
    std::fprintf(stderr, "train: %s\n", std::string(result.status().message()).c_str());
    const bool bad_input = result.status().code() == absl::StatusCode::kInvalidArgument ||
                           result.status().code() == absl::StatusCode::kNotFound ||
                           result.status().code() == absl::StatusCode::kUnimplemented;
    return bad_input ? 2 : 1;
  }
  ReportFinal(config, *result);
  if (absl::Status summary = WriteSummary(config, *result); !summary.ok()) {
    std::fprintf(stderr, "train: %s\n", std::string(summary.message()).c_str());
    return 1;
  }
  return 0;
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
  absl::ParseCommandLine(argc, argv);
  return TrainAndReport(FromFlags());
}

}  // namespace ald
