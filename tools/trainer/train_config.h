// Everything a training run is configured by (the training binary fills it from its flags),
// with validation whose errors name the flag and what was expected.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace ald {

struct TrainConfig {
  // Model and data.
  std::string model = "resnet20";
  std::string dataset = "fashion_mnist";  // fashion_mnist | cifar10 | synthetic
  std::string data_dir;                   // empty: the dataset's default location
  int64_t pad = 0;  // zero border added around every image (Fashion-MNIST + 2 = 32x32, for VGG)
  bool augment = false;                   // CIFAR crop + flip
  // Optimisation (per worker).
  int64_t batch = 32;
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  bool nesterov = false;
  std::string lr_schedule = "cosine";  // constant | step | cosine
  double warmup_epochs = 0;
  int64_t epochs = 1;
  int64_t steps = 0;  // stop after this many steps in total (0: run all epochs)
  uint64_t seed = 1;
  // Evaluation, metrics, checkpoints.
  int64_t eval_every = 0;  // steps; 0: at the end of each epoch
  int64_t eval_batch = 500;
  std::string metrics;       // CSV path
  std::string summary_json;  // JSON path
  std::string checkpoint_dir;
  int64_t checkpoint_every = 0;  // steps; 0: at the end of each epoch
  bool resume = false;
  // Workers and the distributed algorithm.
  int workers = 4;  // the embedded default: several workers in one process
  std::string comm = "inproc";  // inproc | mpi | nccl
  std::string algo = "aldsgd";
  std::string topology = "ring";
  double budget = 0.5;  // MATCHA's c_b
  int graphs = 2;       // AL-DSGD's K graph copies
  std::string base = "matcha";  // AL-DSGD's base: dpsgd | matcha
  std::string aldsgd_form = "code";
  // D-PSGD, MATCHA and AL-DSGD's code form: atc (adapt then combine, the authors' code) or awc
  // (adapt with combine, Lian et al.'s D-PSGD: the exchange overlaps the whole step).
  std::string combine = "atc";
  double c1 = 0.3, c2 = 0.1, p1 = 0.2, p2 = 0.2;
  bool sync_init = true;
  int tau = 1;
  double rho = 0.9;     // EASGD's moving rate beta
  double lambda = 0.1;  // LSGD's pull
  double timeout_seconds = 60;
  // The step: buckets of at most this many MiB of parameters; pipelined (a bucket's update and
  // exchange start while backward continues) or sequential (compute all, then communicate).
  double bucket_mb = 25;
  // ... and at least this many buckets, so that a model smaller than the cap still pipelines.
  // 16 makes ResNet-20's buckets about one layer each: over a shaped 1 Gbit/s link its pipelined
  // step took 79-81 ms against 84-85 ms with 8 (tools/shaped_training_bench.sh), and the
  // in-process default trains as fast either way.
  int min_buckets = 16;
  bool pipeline = true;
  bool reproducible_sums = true;  // all-reduce in rank order on every backend (bitwise)
  bool quiet = false;  // no progress lines (tests)
  std::string trace;   // Chrome trace JSON path (one file per rank under MPI)

  // The flags as strings, stored in checkpoints.
  std::map<std::string, std::string> AsFlags() const;
};

absl::Status ValidateConfig(const TrainConfig& config);

}  // namespace ald
