#include "tools/trainer.h"


#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checkpoint/checkpoint.h"
#include "core/status.h"
#include "data/dataset.h"
#include "data/eval_batches.h"
#include "data/loader.h"
#include "graph/compiler.h"
#include "models/registry.h"
#include "ops/ref/accuracy.h"
#include "ops/sgd.h"
#include "tools/lr_schedule.h"
#include "tools/metrics.h"
#include "tools/progress.h"

namespace ald {
namespace {

using Clock = std::chrono::steady_clock;

struct SharedData {
  Dataset train, test;
  Graph train_graph, eval_graph;
  int64_t steps_per_epoch = 0;
};

std::string DataDir(const TrainConfig& config) {
  if (!config.data_dir.empty()) return config.data_dir;
  if (config.dataset == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  return "";
}

absl::StatusOr<SharedData> Prepare(const TrainConfig& config) {
  if (config.dataset == "cifar10" && config.data_dir.empty()) {
    return absl::InvalidArgumentError(
        "--data_dir: cifar10 needs the directory holding data_batch_1.bin .. test_batch.bin");
  }
  SharedData data;
  ASSIGN_OR_RETURN(data.train, LoadDataset(config.dataset, DataDir(config), Split::kTrain));
  ASSIGN_OR_RETURN(data.test, LoadDataset(config.dataset, DataDir(config), Split::kTest));
  ModelOptions options{.batch = config.batch,
                       .channels = data.train.channels,
                       .height = data.train.height,
                       .width = data.train.width,
                       .classes = data.train.num_classes};
  ASSIGN_OR_RETURN(data.train_graph, BuildModel(config.model, options));
  options.batch = std::min<int64_t>(config.eval_batch, data.test.count);
  ASSIGN_OR_RETURN(data.eval_graph, BuildModel(config.model, options));
  data.steps_per_epoch = data.train.count / config.workers / config.batch;
  if (data.steps_per_epoch < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--batch=", config.batch, " with --workers=", config.workers, ": the ", data.train.count,
        " training images give each worker less than one batch per epoch"));
  }
  return data;
}

// One worker: its compiled model, its shard of the data, its step loop.
class Worker {
 public:
  Worker(const TrainConfig& config, int rank, const SharedData& data)
      : config_(config), rank_(rank), data_(data) {}

  absl::Status Setup();
  absl::Status Run(TrainResult& result);

 private:
  absl::Status Step(double lr, double& loss, int64_t& correct);
  absl::StatusOr<double> Evaluate();
  TrainingState StateView();
  absl::Status Save();
  absl::Status Resume();
  std::string CheckpointDir() const {
    return config_.workers == 1 ? config_.checkpoint_dir
                                : absl::StrCat(config_.checkpoint_dir, "/worker-", rank_);
  }

  const TrainConfig& config_;
  const int rank_;
  const SharedData& data_;
  CompiledModel model_;
  std::unique_ptr<BatchLoader> loader_;
  LrSchedule schedule_;
  int64_t step_ = 0;  // optimizer steps completed
  LoaderPosition position_;
};

absl::Status Worker::Setup() {
  CompileOptions options;
  ASSIGN_OR_RETURN(model_, CompileModel(data_.train_graph, &data_.eval_graph, options));
  // The same seed on every worker gives every worker the same x_0 (the synchronised start);
  // without it each worker starts from its own draw.
  model_.store->Initialize(config_.sync_init ? config_.seed : config_.seed + 7919 * rank_);
  const int64_t total = config_.epochs * data_.steps_per_epoch;
  ASSIGN_OR_RETURN(schedule_.kind, ParseLrSchedule(config_.lr_schedule));
  schedule_.base_lr = config_.lr;
  schedule_.total_steps = total;
  schedule_.warmup_steps = static_cast<int64_t>(config_.warmup_epochs * data_.steps_per_epoch);
  if (config_.resume) RETURN_IF_ERROR(Resume());
  LoaderOptions loader{.batch_size = config_.batch,
                       .worker = rank_,
                       .num_workers = config_.workers,
                       .seed = config_.seed,
                       .shuffle = true,
                       .augment = config_.augment,
                       .prefetch = true};
  ASSIGN_OR_RETURN(loader_, BatchLoader::Create(data_.train, loader, position_));
  return absl::OkStatus();
}

TrainingState Worker::StateView() {
  TrainingState state;
  state.model = config_.model;
  state.step = step_;
  state.epoch = position_.epoch;
  state.step_in_epoch = position_.step_in_epoch;
  state.seed = config_.seed;
  state.worker = rank_;
  state.data_position = position_.step_in_epoch * config_.batch;
  state.flags = config_.AsFlags();
  ParameterStore& store = *model_.store;
  const size_t count = store.size();
  Tensor momentum_flat = *Tensor::Wrap(store.momentum().data(), count * sizeof(float),
                                       Shape{static_cast<int64_t>(count)}, DType::kF32);
  size_t offset = 0;
  for (ValueId p : store.layout()) {
    const Tensor& param = store.View(p);
    state.parameters.push_back({store.name(p), param});
    Tensor momentum = *momentum_flat.Slice(offset, offset + param.num_elements());
    state.optimizer_state.push_back({store.name(p), *momentum.Reshape(param.shape())});
    offset += param.num_elements();
  }
  for (ValueId r : store.running_stats()) {
    state.running_stats.push_back({store.name(r), store.View(r)});
  }
  return state;
}

absl::Status Worker::Save() {
  if (config_.checkpoint_dir.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string path, SaveCheckpoint(CheckpointDir(), StateView()));
  (void)path;
  return absl::OkStatus();
}

absl::Status Worker::Resume() {
  absl::StatusOr<TrainingState> loaded = LoadCheckpoint(CheckpointDir());
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(),
                        absl::StrCat("--resume: ", loaded.status().message()));
  }
  TrainingState state = StateView();
  absl::Status restored = RestoreInto(state, *loaded);
  if (!restored.ok()) {
    return absl::Status(restored.code(), absl::StrCat("--resume: ", restored.message()));
  }
  step_ = state.step;
  position_ = {state.epoch, state.step_in_epoch};
  return absl::OkStatus();
}

absl::Status Worker::Step(double lr, double& loss, int64_t& correct) {
  Plan& plan = *model_.train;
  RETURN_IF_ERROR(loader_->Next(plan.input(), plan.labels()));
  const DropoutKey key{config_.seed, static_cast<uint32_t>(rank_), static_cast<uint32_t>(step_)};
  RETURN_IF_ERROR(plan.Run(key));
  const cpu::SgdConfig sgd{static_cast<float>(lr), static_cast<float>(config_.momentum),
                           config_.nesterov, static_cast<float>(config_.weight_decay)};
  RETURN_IF_ERROR(cpu::SgdStep(sgd, model_.store->parameters(), model_.store->gradients(),
                               model_.store->momentum()));
  loss = plan.loss();
  correct = plan.correct();
  return absl::OkStatus();
}

absl::StatusOr<double> Worker::Evaluate() {
  Plan& plan = *model_.eval;
  ASSIGN_OR_RETURN(EvalBatches batches, EvalBatches::Create(data_.test, plan.input().shape()[0]));
  const int64_t classes = plan.logits().shape()[1];
  int64_t correct = 0, total = 0;
  while (true) {
    ASSIGN_OR_RETURN(int64_t real, batches.Next(plan.input(), plan.labels()));
    if (real == 0) break;
    RETURN_IF_ERROR(plan.Run());
    // Only the batch's real rows count (the last batch is padded).
    correct += ref::CountCorrect<float>(
        classes, plan.logits().values<float>().subspan(0, real * classes),
        plan.labels().values<int32_t>().subspan(0, real));
    total += real;
  }
  return static_cast<double>(correct) / static_cast<double>(total);
}

absl::Status Worker::Run(TrainResult& result) {
  const int64_t per_epoch = data_.steps_per_epoch;
  const int64_t total = config_.epochs * per_epoch;
  const int64_t stop = config_.steps > 0 ? std::min(total, config_.steps) : total;
  const bool reporter = rank_ == 0 && !config_.quiet;
  Progress progress(config_.epochs, per_epoch, config_.batch * config_.workers);
  MetricsLog metrics(rank_ == 0 ? config_.metrics : "");
  const Clock::time_point start = Clock::now();
  int64_t images = 0;
  double epoch_loss = 0, epoch_correct = 0;
  int64_t epoch_steps = 0;
  double test_accuracy = -1;
  while (step_ < stop) {
    const double lr = schedule_.At(step_);
    double loss = 0;
    int64_t correct = 0;
    RETURN_IF_ERROR(Step(lr, loss, correct));
    ++step_;
    images += config_.batch;
    epoch_loss += loss;
    epoch_correct += static_cast<double>(correct) / config_.batch;
    ++epoch_steps;
    position_ = loader_->position();
    const bool epoch_end = position_.step_in_epoch == 0 || step_ == stop;
    const int64_t shown_epoch = position_.step_in_epoch == 0 ? position_.epoch - 1 : position_.epoch;
    const int64_t shown_step = position_.step_in_epoch == 0 ? per_epoch : position_.step_in_epoch;
    if (reporter) {
      progress.Step(shown_epoch, shown_step, epoch_loss / epoch_steps,
                    epoch_correct / epoch_steps, lr);
    }
    const bool evaluate =
        config_.eval_every > 0 ? step_ % config_.eval_every == 0 || step_ == stop : epoch_end;
    if (evaluate) {
      ASSIGN_OR_RETURN(test_accuracy, Evaluate());
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      MetricsRow row{.epoch = shown_epoch + 1,
                     .step = step_,
                     .worker = rank_,
                     .lr = lr,
                     .train_loss = epoch_loss / epoch_steps,
                     .train_accuracy = epoch_correct / epoch_steps,
                     .test_accuracy = test_accuracy,
                     .images_per_second = images * config_.workers / seconds,
                     .wall_seconds = seconds};
      RETURN_IF_ERROR(metrics.Append(row));
      if (reporter) {
        progress.Message(absl::StrFormat("step %d: test accuracy %.2f%%", step_,
                                         100 * test_accuracy));
      }
    }
    const bool checkpoint =
        config_.checkpoint_every > 0 ? step_ % config_.checkpoint_every == 0 : epoch_end;
    if (checkpoint || step_ == stop) RETURN_IF_ERROR(Save());
    if (epoch_end) {
      if (reporter) {
        progress.EndEpoch(shown_epoch, epoch_loss / epoch_steps, epoch_correct / epoch_steps);
      }
      result.final_train_loss = epoch_loss / epoch_steps;
      if (step_ < stop) epoch_loss = epoch_correct = 0, epoch_steps = 0;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (test_accuracy < 0) {
    ASSIGN_OR_RETURN(test_accuracy, Evaluate());
  }
  result.steps = step_;
  result.epochs = position_.epoch + (position_.step_in_epoch > 0 ? 1 : 0);
  result.test_accuracy = test_accuracy;
  result.wall_seconds = seconds;
  result.images_per_second = seconds > 0 ? images * config_.workers / seconds : 0;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainConfig& config) {
  RETURN_IF_ERROR(ValidateConfig(config));
  if (config.workers != 1 || config.comm != "inproc") {
    return absl::UnimplementedError(
        "--workers: only 1 worker until the distributed algorithms are wired in");
  }
  ASSIGN_OR_RETURN(SharedData data, Prepare(config));
  Worker worker(config, 0, data);
  RETURN_IF_ERROR(worker.Setup());
  TrainResult result;
  RETURN_IF_ERROR(worker.Run(result));
  return result;
}

}  // namespace ald
