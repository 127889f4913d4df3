#include "tools/trainer/trainer.h"


#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "checkpoint/checkpoint.h"
#include "core/atomic_file.h"
#include "comm/algorithms/algorithm.h"
#include "comm/inproc_communicator.h"
#include "comm/mpi_communicator.h"
#include "comm/topology/topology.h"
#include "comm/wire_format.h"
#include "core/trace.h"
#include "core/status.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/pad.h"
#include "data/partition.h"
#include "graph/compiler.h"
#include "graph/step_scheduler.h"
#include "models/registry.h"
#include "ops/sgd.h"
#include "tools/trainer/lr_schedule.h"
#include "tools/trainer/metrics.h"
#include "tools/trainer/output_paths.h"
#include "tools/trainer/progress.h"
#include "tools/trainer/resume_step.h"
#include "tools/trainer/worker_model.h"
#include "tools/trainer/worker_threads.h"

namespace ald {
namespace {

using Clock = std::chrono::steady_clock;

struct SharedData {
  Dataset train, test;
  ModelGraph train_graph, eval_graph;
  int64_t steps_per_epoch = 0;
  PartitionSpec partition;
  // Each worker's examples per label, "n0;n1;..." (the metrics' label_histogram).
  std::vector<std::string> label_histograms;
};

// Every worker's label histogram under the run's partition: a pure function of the seed, so
// rank 0 knows every worker's without asking, in one process or under MPI.
absl::Status DescribePartition(const TrainConfig& config, SharedData& data) {
  const auto flagged = [&](const absl::Status& status) {
    return absl::Status(status.code(),
                        absl::StrCat("--partition=", config.partition, ": ", status.message()));
  };
  absl::StatusOr<PartitionSpec> spec = ParsePartition(config.partition);
  if (!spec.ok()) return flagged(spec.status());
  data.partition = *spec;
  absl::StatusOr<std::vector<std::vector<int64_t>>> histograms =
      WorkerLabelHistograms(data.train.labels, data.train.num_classes, config.workers, config.seed,
                            data.partition, config.batch);
  if (!histograms.ok()) return flagged(histograms.status());
  for (const std::vector<int64_t>& histogram : *histograms) {
    data.label_histograms.push_back(absl::StrJoin(histogram, ";"));
  }
  if (!config.quiet) {
    std::printf("data partition %s%s: examples per label of each worker\n",
                config.partition.c_str(),
                data.partition.kind == PartitionKind::kReshuffle ? " (first epoch; reshuffled every epoch)" : "");
    for (size_t w = 0; w < histograms->size(); ++w) {
      std::printf("  worker %zu: [%s]\n", w, absl::StrJoin((*histograms)[w], ", ").c_str());
    }
  }
  return absl::OkStatus();
}

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
  RETURN_IF_ERROR(CheckSameImageSize(data.train, data.test));
  ASSIGN_OR_RETURN(data.train, PadImages(std::move(data.train), config.pad));
  ASSIGN_OR_RETURN(data.test, PadImages(std::move(data.test), config.pad));
  ModelOptions options{.batch = config.batch,
                       .channels = data.train.channels,
                       .height = data.train.height,
                       .width = data.train.width,
                       .classes = data.train.num_classes};
  absl::StatusOr<ModelGraph> train_graph = BuildModel(config.model, options);
  if (!train_graph.ok() && absl::StartsWith(config.model, "vgg") && options.height < 32) {
    // The shape error names the pooling layer; say what to do about it.
    return absl::InvalidArgumentError(absl::StrCat(
        train_graph.status().message(), " (VGG halves the image five times and needs at least "
        "32x32; these images are ", options.height, "x", options.width, ": try --pad=",
        (32 - options.height + 1) / 2, ")"));
  }
  RETURN_IF_ERROR(train_graph.status());
  data.train_graph = *std::move(train_graph);
  options.batch = std::min<int64_t>(config.eval_batch, data.test.count);
  ASSIGN_OR_RETURN(data.eval_graph, BuildModel(config.model, options));
  data.steps_per_epoch = data.train.count / config.workers / config.batch;
  if (data.steps_per_epoch < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--batch=", config.batch, " with --workers=", config.workers, ": the ", data.train.count,
        " training images give each worker less than one batch per epoch"));
  }
  RETURN_IF_ERROR(DescribePartition(config, data));
  return data;
}

// One worker: its compiled model, its shard of the data, its step loop.
class Worker {
 public:
  // `comm` and `topology` are null for a single worker (plain SGD, no algorithm).
  // `trace` (may be null) records this worker's kernels, communication and steps.
  // `device_comm` (--comm=nccl) carries the GPU algorithm's exchanges; `comm` then stays the
  // host communicator that bootstrapped it, for the metrics.
  Worker(const TrainConfig& config, int rank, const SharedData& data, Communicator* comm,
         const Topology* topology, Trace* trace, Communicator* device_comm = nullptr)
      : config_(config),
        rank_(rank),
        data_(data),
        comm_(comm),
        topology_(topology),
        trace_(trace),
        device_comm_(device_comm) {}

  absl::Status Setup();
  // Trains from the current step to the stop (--steps or the last epoch), evaluating, recording
  // and checkpointing where the flags say; fills `result` on every worker.
  absl::Status Run(TrainResult& result);

 private:
  // The epoch's figures so far, as the progress line, the metrics and the result report them.
  struct EpochTally {
    double loss = 0, accuracy = 0;
    int64_t steps = 0;
    double mean_loss() const { return loss / steps; }
    double mean_accuracy() const { return accuracy / steps; }
  };
  // What a run reports to as it goes.
  struct RunLog {
    Progress progress;
    MetricsLog metrics;     // rank 0 writes the CSV for all workers
    Clock::time_point start;
    Clock::duration not_training{};  // evaluations and checkpoints so far: off the training clock
    int64_t images = 0;     // this worker's, so far
    bool reporter = false;  // prints progress (rank 0, unless --quiet)
  };

  // One optimizer step: the traced step, the divergence check, the tally and the position.
  absl::Status TrainStep(double lr, EpochTally& tally);
  absl::Status Step(double lr, double& loss, int64_t& correct);
  // Evaluation, checkpoints and the end read the parameters on the host.
  absl::Status BringParametersToHost(bool last);
  // Every worker's test accuracy, the average model and the consensus distance, as metrics
  // rows, the result's figures and (rank 0) a progress line.
  absl::Status EvaluateAndRecord(int64_t shown_epoch, double lr, const EpochTally& tally,
                                 RunLog& log, TrainResult& result);
  absl::StatusOr<double> Evaluate();
  // Every worker's figures at an evaluation point, gathered on every worker (collectives).
  struct Snapshot {
    std::vector<double> train_loss, train_accuracy, test_accuracy, bytes_sent;
    std::vector<LeaderCounts> leaders;  // since the previous evaluation; steps -1: no leaders
    double average_model_accuracy = -1, consensus_distance = 0;
  };
  absl::StatusOr<Snapshot> Gather(double train_loss, double train_accuracy, double test_accuracy);
  absl::StatusOr<double> EvaluateAverageModel(std::span<const float> average);
  absl::Status StartAlgorithm();
  TrainingState StateView();
  absl::Status Save();  // the checkpoint (no-op without --checkpoint_dir)
  absl::Status Resume();
  std::string CheckpointDir() const {
    return config_.workers == 1 ? config_.checkpoint_dir
                                : absl::StrCat(config_.checkpoint_dir, "/worker-", rank_);
  }

  const TrainConfig& config_;
  const int rank_;
  const SharedData& data_;
  Communicator* comm_;
  const Topology* topology_;
  Trace* trace_;
  Communicator* device_comm_;
  std::unique_ptr<WorkerModel> model_;
  // Declared after model_, so destroyed before it: a worker that fails mid-step still has sends
  // in flight that read model_'s parameters, and destroying algorithm_ abandons them, which
  // stops the MPI progress thread (MpiRuntime::ReleaseAbandoned) before the parameters are
  // freed. The other order let the progress thread's writev read unmapped memory: Open MPI
  // aborted the survivor (exit 255, "writev error ... Bad address") instead of its naming the
  // dead peer.
  std::unique_ptr<Algorithm> algorithm_;
  std::unique_ptr<StepScheduler> scheduler_;  // drives algorithm_ on model_'s plan
  std::unique_ptr<BatchLoader> loader_;
  LrSchedule schedule_;
  int64_t step_ = 0;  // optimizer steps completed
  LoaderPosition position_;
  LeaderCounts leaders_reported_;  // the algorithm's leader counts at the previous evaluation
};

absl::Status Worker::Setup() {
  if (!config_.checkpoint_dir.empty()) {
    // A kill during a save leaves its temporary behind; nothing else ever removes it.
    RETURN_IF_ERROR(RemoveStaleTempFiles(CheckpointDir()).status());
  }
  CompileOptions options;
  options.bucket_cap_bytes = static_cast<size_t>(config_.bucket_mb * (1 << 20));
  options.min_buckets = static_cast<size_t>(config_.min_buckets);
  options.precision = ParsePrecision(config_.precision).value_or(Precision::kF32);
  if (config_.comm == "nccl") {
    ASSIGN_OR_RETURN(model_, CreateCudaWorkerModel(data_.train_graph, data_.eval_graph, options));
  } else {
    ASSIGN_OR_RETURN(model_, CreateCpuWorkerModel(data_.train_graph, data_.eval_graph, options,
                                                  trace_, rank_));
  }
  // The same seed on every worker gives every worker the same x_0 (the synchronised start);
  // without it each worker starts from its own draw.
  model_->store().Initialize(config_.sync_init ? config_.seed : config_.seed + 7919 * rank_);
  RETURN_IF_ERROR(model_->SyncFromHost());
  const int64_t total = config_.epochs * data_.steps_per_epoch;
  ASSIGN_OR_RETURN(schedule_.kind, ParseLrSchedule(config_.lr_schedule));
  schedule_.base_lr = config_.lr;
  schedule_.total_steps = total;
  schedule_.warmup_steps = static_cast<int64_t>(config_.warmup_epochs * data_.steps_per_epoch);
  // The algorithm starts first (with sync_init it adopts rank 0's x_0), then a resumed worker
  // overwrites that with its own checkpoint.
  if (comm_ != nullptr) RETURN_IF_ERROR(StartAlgorithm());
  if (config_.resume) RETURN_IF_ERROR(Resume());
  LoaderOptions loader{.batch_size = config_.batch,
                       .worker = rank_,
                       .num_workers = config_.workers,
                       .seed = config_.seed,
                       .shuffle = true,
                       .partition = data_.partition,
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
  ParameterStore& store = model_->store();
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
  if (algorithm_ != nullptr) {
    for (AlgorithmStateTensor& piece : algorithm_->State()) {
      state.algorithm_state.push_back({std::move(piece.name), std::move(piece.tensor)});
    }
  }
  return state;
}

absl::Status Worker::Save() {
  if (config_.checkpoint_dir.empty()) return absl::OkStatus();
  return SaveCheckpoint(CheckpointDir(), StateView()).status();
}

absl::Status Worker::Resume() {
  const auto context = [](const absl::Status& status, const std::string& file) {
    return absl::Status(status.code(), absl::StrCat("--resume: ", file, file.empty() ? "" : ": ",
                                                    status.message()));
  };
  // Every worker from the same step (resume_step.h): after a crash their newest may differ.
  absl::StatusOr<std::vector<int64_t>> steps = CheckpointSteps(CheckpointDir());
  if (!steps.ok()) return context(steps.status(), "");
  absl::StatusOr<int64_t> step = AgreeOnResumeStep(comm_, *steps);
  if (!step.ok()) return context(step.status(), config_.checkpoint_dir);
  const std::string file = absl::StrCat(CheckpointDir(), "/", CheckpointFileName(*step));
  // LoadCheckpoint's errors name the file already.
  absl::StatusOr<TrainingState> loaded = LoadCheckpoint(file);
  if (!loaded.ok()) return context(loaded.status(), "");
  if (absl::Status same = CheckResumable(config_, loaded->flags, file); !same.ok()) {
    return context(same, "");
  }
  TrainingState state = StateView();
  absl::Status restored = RestoreInto(state, *loaded);
  if (!restored.ok()) return context(restored, file);
  step_ = state.step;
  position_ = {state.epoch, state.step_in_epoch};
  if (rank_ == 0 && !config_.quiet) {
    std::printf("resumed from step %lld, the newest with a complete checkpoint on every worker%s\n",
                static_cast<long long>(step_),
                step_ != steps->back() ? " (this worker had a newer one)" : "");
  }
  return model_->SyncFromHost();
}

absl::Status Worker::Step(double lr, double& loss, int64_t& correct) {
  WorkerModel& model = *model_;
  RETURN_IF_ERROR(loader_->Next(model.input(), model.labels()));
  const DropoutKey key{config_.seed, static_cast<uint32_t>(rank_), static_cast<uint32_t>(step_)};
  if (scheduler_ != nullptr) {
    // The algorithm does the local update bucket by bucket (graph/step_scheduler.h).
    RETURN_IF_ERROR(scheduler_->Step(
        step_,
        LocalStep{static_cast<float>(lr), static_cast<float>(config_.momentum), config_.nesterov,
                  static_cast<float>(config_.weight_decay)},
        key));
  } else {
    RETURN_IF_ERROR(model.step_plan().Run(key));
    const cpu::SgdConfig sgd{static_cast<float>(lr), static_cast<float>(config_.momentum),
                             config_.nesterov, static_cast<float>(config_.weight_decay)};
    RETURN_IF_ERROR(model.LocalSgd(sgd));
  }
  loss = model.step_plan().loss();
  correct = model.correct();
  return absl::OkStatus();
}

absl::StatusOr<double> Worker::Evaluate() {
  ASSIGN_OR_RETURN(const EvalCounts counts, model_->Evaluate(data_.test, EvalShard{}));
  return counts.accuracy();
}

absl::Status Worker::StartAlgorithm() {
  ParameterStore& store = model_->store();
  AlgorithmContext context;
  context.comm = comm_;
  context.topology = topology_;
  context.buffers = {store.parameters(), store.gradients(), store.momentum(), {}};
  for (const Bucket& bucket : store.buckets()) {
    context.buffers.buckets.push_back({bucket.offset, bucket.size});
  }
  context.options.aldsgd_form =
      config_.aldsgd_form == "paper" ? AldsgdForm::kPaper : AldsgdForm::kCode;
  context.options.combine = config_.combine == "awc" ? CombineOrder::kAdaptWithCombine
                                                    : CombineOrder::kAdaptThenCombine;
  context.options.c1 = config_.c1;
  context.options.c2 = config_.c2;
  context.options.p1 = config_.p1;
  context.options.p2 = config_.p2;
  ASSIGN_OR_RETURN(context.options.leader_loss_beta, ParseLeaderLoss(config_.leader_loss));
  context.options.easgd_beta = config_.rho;
  context.options.lsgd_lambda = config_.lambda;
  context.options.tau = config_.tau;
  context.options.sync_init = config_.sync_init;
  context.options.seed = config_.seed;
  ASSIGN_OR_RETURN(context.options.wire, ParseWireFormat(config_.wire));
  ASSIGN_OR_RETURN(algorithm_, model_->CreateAlgorithm(config_.algo, context, device_comm_));
  algorithm_->SetTrace(trace_, rank_);
  scheduler_ = std::make_unique<StepScheduler>(model_->step_plan(), *algorithm_, config_.pipeline);
  return algorithm_->Start();
}

absl::StatusOr<double> Worker::EvaluateAverageModel(std::span<const float> average) {
  // Every worker holds the average (an all-reduce made it), so each evaluates its share of the
  // test batches and the counts are added: the batches are the whole evaluation's, so the
  // accuracy is the one a single worker would compute, in 1/n of the time. (Rank 0 alone took
  // as long as all workers' own evaluations together, while the others waited for it within
  // the communicator's timeout.)
  // The model evaluates what is on its device: the average goes there, then its own comes back.
  std::span<float> params = model_->store().parameters();
  const std::vector<float> own(params.begin(), params.end());
  std::copy(average.begin(), average.end(), params.begin());
  RETURN_IF_ERROR(model_->SyncFromHost());
  absl::StatusOr<EvalCounts> counts =
      model_->Evaluate(data_.test, EvalShard{rank_, comm_->size()});
  std::copy(own.begin(), own.end(), params.begin());
  RETURN_IF_ERROR(model_->SyncFromHost());
  RETURN_IF_ERROR(counts.status());
  // Counts up to 2^24 add exactly in floats.
  std::vector<float> summed = {static_cast<float>(counts->correct),
                               static_cast<float>(counts->total)};
  RETURN_IF_ERROR(comm_->AllReduce(summed, ReduceOp::kSum));
  return EvalCounts{static_cast<int64_t>(summed[0]), static_cast<int64_t>(summed[1])}.accuracy();
}

absl::StatusOr<Worker::Snapshot> Worker::Gather(double train_loss, double train_accuracy,
                                                double test_accuracy) {
  const int workers = config_.workers;
  Snapshot snapshot;
  const double bytes = algorithm_ ? static_cast<double>(algorithm_->stats().bytes_sent) : 0;
  // The leader counts since the previous evaluation.
  LeaderCounts leaders{.steps = -1};
  if (const LeaderCounts* now = algorithm_ ? algorithm_->leader_counts() : nullptr) {
    leaders = {now->steps - leaders_reported_.steps,
               now->loss_leader_changes - leaders_reported_.loss_leader_changes,
               now->degree_leader_changes - leaders_reported_.degree_leader_changes,
               now->own_loss_leader - leaders_reported_.own_loss_leader,
               now->own_degree_leader - leaders_reported_.own_degree_leader};
    leaders_reported_ = *now;
  }
  if (comm_ == nullptr) {
    snapshot = {{train_loss}, {train_accuracy}, {test_accuracy}, {bytes}, {leaders}, -1, 0};
    return snapshot;
  }
  // One row per worker; each fills its own, a sum assembles the table everywhere (the counts
  // are far below float's 2^24 exact integers).
  constexpr int kColumns = 9;
  std::vector<float> table(kColumns * workers, 0.0f);
  const float mine[kColumns] = {
      static_cast<float>(train_loss), static_cast<float>(train_accuracy),
      static_cast<float>(test_accuracy), static_cast<float>(bytes),
      static_cast<float>(leaders.steps), static_cast<float>(leaders.loss_leader_changes),
      static_cast<float>(leaders.degree_leader_changes), static_cast<float>(leaders.own_loss_leader),
      static_cast<float>(leaders.own_degree_leader)};
  std::copy(mine, mine + kColumns, table.begin() + kColumns * rank_);
  RETURN_IF_ERROR(comm_->AllReduce(table, ReduceOp::kSum));
  for (int w = 0; w < workers; ++w) {
    const float* row = table.data() + kColumns * w;
    snapshot.train_loss.push_back(row[0]);
    snapshot.train_accuracy.push_back(row[1]);
    snapshot.test_accuracy.push_back(row[2]);
    snapshot.bytes_sent.push_back(row[3]);
    snapshot.leaders.push_back({static_cast<int64_t>(row[4]), static_cast<int64_t>(row[5]),
                                static_cast<int64_t>(row[6]), static_cast<int64_t>(row[7]),
                                static_cast<int64_t>(row[8])});
  }
  // The average model and each worker's distance from it.
  std::span<const float> params = std::as_const(model_->store()).parameters();
  std::vector<float> average(params.begin(), params.end());
  RETURN_IF_ERROR(comm_->AllReduce(average, ReduceOp::kAverage));
  double distance = 0, norm = 0;
  for (size_t i = 0; i < average.size(); ++i) {
    distance += (params[i] - average[i]) * (params[i] - average[i]);
    norm += average[i] * average[i];
  }
  std::vector<float> relative = {static_cast<float>(std::sqrt(distance / std::max(norm, 1e-30)))};
  RETURN_IF_ERROR(comm_->AllReduce(relative, ReduceOp::kAverage));
  snapshot.consensus_distance = relative[0];
  ASSIGN_OR_RETURN(snapshot.average_model_accuracy, EvaluateAverageModel(average));
  return snapshot;
}

absl::Status Worker::TrainStep(double lr, EpochTally& tally) {
  double loss = 0;
  int64_t correct = 0;
  {
    ScopedTraceEvent traced_step(trace_, rank_, kComputeTid, "step", "step", {{"step", step_}});
    RETURN_IF_ERROR(Step(lr, loss, correct));
  }
  if (!std::isfinite(loss)) {
    // Training on would only produce more NaNs and a meaningless 10% accuracy.
    // AWC iterates W − γ·H near a minimum: with a W whose eigenvalues reach toward −1 (the
    // best-constant weights) it diverges at rates adapt-then-combine trains with.
    const char* awc_hint = config_.combine == "awc"
                               ? " (adapt with combine often needs a lower rate than atc)"
                               : "";
    return absl::FailedPreconditionError(absl::StrFormat(
        "step %d: the loss is %f: training diverged (learning rate %g); try a lower --lr%s",
        step_, loss, lr, awc_hint));
  }
  ++step_;
  tally.loss += loss;
  tally.accuracy += static_cast<double>(correct) / config_.batch;
  ++tally.steps;
  position_ = loader_->position();
  return absl::OkStatus();
}

absl::Status Worker::BringParametersToHost(bool last) {
  // Finish the combines that a pipelined step leaves to the next forward, and fetch the
  // parameters from a GPU.
  if (scheduler_ != nullptr) RETURN_IF_ERROR(scheduler_->Flush());
  if (algorithm_ != nullptr && last) RETURN_IF_ERROR(algorithm_->Finish());
  return model_->SyncToHost();
}

absl::Status Worker::EvaluateAndRecord(int64_t shown_epoch, double lr, const EpochTally& tally,
                                       RunLog& log, TrainResult& result) {
  const Clock::time_point begin = Clock::now();
  const double train_seconds =
      std::chrono::duration<double>(begin - log.start - log.not_training).count();
  ASSIGN_OR_RETURN(const double test_accuracy, Evaluate());
  ASSIGN_OR_RETURN(Snapshot snapshot,
                   Gather(tally.mean_loss(), tally.mean_accuracy(), test_accuracy));
  const double seconds = std::chrono::duration<double>(Clock::now() - log.start).count();
  for (int w = 0; w < config_.workers; ++w) {
    MetricsRow row{.epoch = shown_epoch + 1,
                   .step = step_,
                   .worker = w,
                   .lr = lr,
                   .train_loss = snapshot.train_loss[w],
                   .train_accuracy = snapshot.train_accuracy[w],
                   .test_accuracy = snapshot.test_accuracy[w],
                   .average_model_accuracy = snapshot.average_model_accuracy,
                   .consensus_distance = snapshot.consensus_distance,
                   .images_per_second = log.images * config_.workers / seconds,
                   .wall_seconds = seconds,
                   .train_seconds = train_seconds,
                   .bytes_sent = static_cast<int64_t>(snapshot.bytes_sent[w]),
                   .label_histogram = data_.label_histograms[w],
                   .leader_steps = snapshot.leaders[w].steps,
                   .loss_leader_changes = snapshot.leaders[w].loss_leader_changes,
                   .degree_leader_changes = snapshot.leaders[w].degree_leader_changes,
                   .own_loss_leader = snapshot.leaders[w].own_loss_leader,
                   .own_degree_leader = snapshot.leaders[w].own_degree_leader};
    RETURN_IF_ERROR(log.metrics.Append(row));
  }
  const auto [low, high] = std::minmax_element(snapshot.test_accuracy.begin(),
                                               snapshot.test_accuracy.end());
  double mean = 0;
  for (double a : snapshot.test_accuracy) mean += a / config_.workers;
  result.test_accuracy = mean;
  result.min_test_accuracy = *low;
  result.max_test_accuracy = *high;
  result.average_model_accuracy = snapshot.average_model_accuracy;
  result.consensus_distance = snapshot.consensus_distance;
  double bytes = 0;
  for (double b : snapshot.bytes_sent) bytes += b / config_.workers;
  result.bytes_sent_per_worker = static_cast<int64_t>(bytes);
  if (log.reporter) {
    log.progress.Message(
        config_.workers == 1
            ? absl::StrFormat("step %d: test accuracy %.2f%%", step_, 100 * test_accuracy)
            : absl::StrFormat("step %d: test accuracy %.2f%% (workers %.2f..%.2f%%), "
                              "average model %.2f%%, consensus distance %.3g",
                              step_, 100 * mean, 100 * *low, 100 * *high,
                              100 * snapshot.average_model_accuracy,
                              snapshot.consensus_distance));
  }
  return absl::OkStatus();
}

absl::Status Worker::Run(TrainResult& result) {
  const int64_t per_epoch = data_.steps_per_epoch;
  const int64_t total = config_.epochs * per_epoch;
  const int64_t stop = config_.steps > 0 ? std::min(total, config_.steps) : total;
  RunLog log{.progress = Progress(config_.epochs, per_epoch, config_.batch * config_.workers),
             .metrics = MetricsLog(rank_ == 0 ? config_.metrics : ""),
             .start = Clock::now(),
             .images = 0,
             .reporter = rank_ == 0 && !config_.quiet};
  EpochTally tally;
  result.test_accuracy = -1;
  while (step_ < stop) {
    const double lr = schedule_.At(step_);
    RETURN_IF_ERROR(TrainStep(lr, tally));
    log.images += config_.batch;
    const bool last = step_ == stop;
    const bool epoch_end = position_.step_in_epoch == 0 || last;
    const bool evaluate =
        config_.eval_every > 0 ? step_ % config_.eval_every == 0 || last : epoch_end;
    const bool checkpoint =
        (config_.checkpoint_every > 0 ? step_ % config_.checkpoint_every == 0 : epoch_end) || last;
    if (evaluate || checkpoint) RETURN_IF_ERROR(BringParametersToHost(last));
    const int64_t shown_epoch = position_.step_in_epoch == 0 ? position_.epoch - 1 : position_.epoch;
    const int64_t shown_step = position_.step_in_epoch == 0 ? per_epoch : position_.step_in_epoch;
    if (log.reporter) {
      log.progress.Step(shown_epoch, shown_step, tally.mean_loss(), tally.mean_accuracy(), lr);
    }
    const Clock::time_point off_clock = Clock::now();
    if (evaluate) RETURN_IF_ERROR(EvaluateAndRecord(shown_epoch, lr, tally, log, result));
    if (checkpoint) RETURN_IF_ERROR(Save());
    log.not_training += Clock::now() - off_clock;
    if (epoch_end) {
      if (log.reporter) log.progress.EndEpoch(shown_epoch, tally.mean_loss(), tally.mean_accuracy());
      result.final_train_loss = tally.mean_loss();
      if (!last) tally = EpochTally();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - log.start).count();
  result.steps = step_;
  result.epochs = position_.epoch + (position_.step_in_epoch > 0 ? 1 : 0);
  result.wall_seconds = seconds;
  result.images_per_second = seconds > 0 ? log.images * config_.workers / seconds : 0;
  return absl::OkStatus();
}

absl::StatusOr<Topology> MakeRunTopology(const TrainConfig& config, int workers) {
  absl::StatusOr<NetworkGraph> graph = MakeTopology(config.topology, workers, config.seed);
  if (!graph.ok()) {
    return absl::Status(graph.status().code(), absl::StrCat("--topology=", config.topology, ": ",
                                                            graph.status().message()));
  }
  TopologyOptions options;
  const bool matcha =
      config.algo == "matcha" || (config.algo == "aldsgd" && config.base == "matcha");
  options.scheme = matcha ? Scheme::kMatcha : Scheme::kStatic;
  options.budget = config.budget;
  options.schedule =
      config.dpsgd_schedule == "alternate" ? StaticSchedule::kAlternate : StaticSchedule::kAll;
  options.copies = GraphCopies(config);
  options.seed = config.seed;
  absl::StatusOr<Topology> topology = Topology::Create(*graph, options);
  if (!topology.ok()) {
    return absl::Status(topology.status().code(),
                        absl::StrCat("--topology=", config.topology, ": ",
                                     topology.status().message()));
  }
  return topology;
}

// The OpenMP threads of each of `workers_on_host` workers (worker_threads.h), said at start.
WorkerThreads DecideWorkerThreads(const TrainConfig& config, int workers_on_host, bool quiet) {
  const WorkerThreads threads = ChooseWorkerThreads(
      config.threads_per_worker, static_cast<int>(std::thread::hardware_concurrency()),
      workers_on_host, OpenMpThreadLimit());
  if (!quiet) std::printf("%s\n", DescribeWorkerThreads(threads).c_str());
  return threads;
}

// One worker's whole run on the calling thread.
absl::Status RunWorker(const TrainConfig& config, int rank, const SharedData& data,
                       Communicator* comm, const Topology* topology, Trace* trace,
                       TrainResult& result, Communicator* device_comm = nullptr) {
  Worker worker(config, rank, data, comm, topology, trace, device_comm);
  RETURN_IF_ERROR(worker.Setup());
  return worker.Run(result);
}

absl::StatusOr<TrainResult> TrainInProcess(const TrainConfig& config, const SharedData& data,
                                           const Topology& topology, Trace* trace) {
  CommOptions options;
  options.timeout = absl::Seconds(config.timeout_seconds);
  options.reproducible_sums = config.reproducible_sums;
  ASSIGN_OR_RETURN(std::shared_ptr<InprocWorld> world,
                   InprocWorld::Create(config.workers, options));
  std::vector<std::unique_ptr<InprocCommunicator>> comms;
  for (int rank = 0; rank < config.workers; ++rank) {
    ASSIGN_OR_RETURN(std::unique_ptr<InprocCommunicator> comm, world->Join(rank));
    comms.push_back(std::move(comm));
  }
  // oneDNN's OpenMP threads are per calling thread: share the cores among the workers.
  const WorkerThreads threads = DecideWorkerThreads(config, config.workers, config.quiet);
  std::vector<TrainResult> results(config.workers);
  std::mutex mutex;
  absl::Status first = absl::OkStatus();
  std::vector<std::thread> pool;
  for (int rank = 0; rank < config.workers; ++rank) {
    pool.emplace_back([&, rank] {
      UseWorkerThreads(threads);
      absl::Status status = RunWorker(config, rank, data, comms[rank].get(), &topology, trace,
                                      results[rank]);
      if (!status.ok()) {
        {
          // Recorded before the abort: the others then fail naming this worker (Unavailable),
          // and the run must report this worker's own error and its exit status instead.
          std::lock_guard<std::mutex> lock(mutex);
          if (first.ok()) {
            first = absl::Status(status.code(),
                                 absl::StrCat("worker ", rank, ": ", status.message()));
          }
        }
        comms[rank]->Abort();  // the others fail fast instead of waiting for --timeout
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  if (!first.ok()) return first;
  return results[0];
}

// One MPI rank's run, on `comm` (its trace file name gets the rank).
absl::StatusOr<TrainResult> TrainMpiRank(const TrainConfig& config, const CommOptions& options,
                                         Communicator& comm,
                                         std::unique_ptr<Communicator>& device_comm, Trace* trace,
                                         std::string& trace_path) {
  TrainConfig mpi_config = config;
  mpi_config.workers = comm.size();
  mpi_config.quiet = config.quiet || comm.rank() != 0;
  // Each rank writes its own trace file, timed from the Unix epoch so that the files line up
  // when merged (to the machines' clock agreement; exactly on one machine).
  if (comm.size() > 1 && !trace_path.empty()) {
    trace_path = absl::StrCat(trace_path, ".rank", comm.rank());
    trace->UseUnixEpoch();
  }
  ASSIGN_OR_RETURN(SharedData data, Prepare(mpi_config));
  // The in-process rule (TrainInProcess), with this host's ranks as its workers.
  UseWorkerThreads(DecideWorkerThreads(config, MpiRanksOnThisHost(), mpi_config.quiet));
  TrainResult run;
  if (comm.size() == 1) {
    // A single process trains alone (plain SGD), as --workers=1 does in process.
    RETURN_IF_ERROR(RunWorker(mpi_config, 0, data, nullptr, nullptr, trace, run));
    return run;
  }
  if (config.comm == "nccl") {
    ASSIGN_OR_RETURN(device_comm, CreateDeviceCommunicator(comm, options));
  }
  ASSIGN_OR_RETURN(Topology topology, MakeRunTopology(mpi_config, comm.size()));
  RETURN_IF_ERROR(RunWorker(mpi_config, comm.rank(), data, &comm, &topology, trace, run,
                            device_comm.get()));
  return run;
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainConfig& config) {
  RETURN_IF_ERROR(ValidateConfig(config));
  RETURN_IF_ERROR(CheckOutputPaths(config));
  std::unique_ptr<Trace> trace = config.trace.empty() ? nullptr : std::make_unique<Trace>();
  std::string trace_path = config.trace;
  absl::StatusOr<TrainResult> result;
  if (config.comm == "mpi" || (config.comm == "nccl" && config.workers > 1)) {
    // One process per worker; under --comm=nccl each on its own GPU, MPI bootstrapping NCCL and
    // carrying the metrics. (--comm=nccl --workers=1 is one GPU in this process, without MPI.)
    MpiOptions options;
    options.comm.timeout = absl::Seconds(config.timeout_seconds);
    options.comm.reproducible_sums = config.reproducible_sums;
    ASSIGN_OR_RETURN(std::unique_ptr<Communicator> comm, CreateMpiCommunicator(options));
    std::unique_ptr<Communicator> device_comm;  // destroyed after MarkMpiJobFailed, as comm is
    absl::StatusOr<TrainResult> run =
        TrainMpiRank(config, options.comm, *comm, device_comm, trace.get(), trace_path);
    // A failed rank must not finalize MPI on its way out (that waits for every rank), and it
    // tells the other ranks whom to blame: the rank it saw fail, or itself.
    if (!run.ok()) MarkMpiJobFailed(run.status());
    RETURN_IF_ERROR(run.status());
    run->progress_thread_cpu_seconds = absl::ToDoubleSeconds(MpiProgressThreadCpuTime());
    run->workers = comm->size();
    result = run;
  } else {
    ASSIGN_OR_RETURN(SharedData data, Prepare(config));
    if (config.workers == 1) {
      UseWorkerThreads(DecideWorkerThreads(config, 1, config.quiet));
      TrainResult run;
      RETURN_IF_ERROR(RunWorker(config, 0, data, nullptr, nullptr, trace.get(), run));
      result = run;
    } else {
      ASSIGN_OR_RETURN(Topology topology, MakeRunTopology(config, config.workers));
      result = TrainInProcess(config, data, topology, trace.get());
    }
    if (result.ok()) result->workers = config.workers;
  }
  if (result.ok() && trace != nullptr) {
    absl::Status written = trace->WriteJson(trace_path);
    if (!written.ok()) {
      return absl::Status(written.code(), absl::StrCat("--trace: ", written.message()));
    }
  }
  return result;
}

}  // namespace ald
