#include "tools/trainer/train_config.h"

#include "absl/strings/str_cat.h"
#include "tools/trainer/lr_schedule.h"

namespace ald {
namespace {

absl::Status Expect(bool ok, const std::string& flag, const std::string& value,
                    const std::string& expected) {
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "=", value, ": expected ", expected));
}

}  // namespace

std::map<std::string, std::string> TrainConfig::AsFlags() const {
  return {{"model", model},
          {"dataset", dataset},
          {"pad", absl::StrCat(pad)},
          {"batch", absl::StrCat(batch)},
          {"lr", absl::StrCat(lr)},
          {"momentum", absl::StrCat(momentum)},
          {"weight_decay", absl::StrCat(weight_decay)},
          {"nesterov", nesterov ? "true" : "false"},
          {"lr_schedule", lr_schedule},
          {"epochs", absl::StrCat(epochs)},
          {"seed", absl::StrCat(seed)},
          {"workers", absl::StrCat(workers)},
          {"algo", algo},
          {"combine", combine},
          {"topology", topology}};
}

absl::Status ValidateConfig(const TrainConfig& c) {
  absl::Status status;
  status.Update(Expect(c.dataset == "fashion_mnist" || c.dataset == "cifar10" ||
                           c.dataset == "synthetic",
                       "dataset", c.dataset, "one of fashion_mnist, cifar10, synthetic"));
  status.Update(Expect(c.batch >= 1, "batch", absl::StrCat(c.batch), "a batch size >= 1"));
  status.Update(Expect(c.pad >= 0, "pad", absl::StrCat(c.pad), "a border of 0 or more pixels"));
  status.Update(Expect(c.lr > 0, "lr", absl::StrCat(c.lr), "a learning rate > 0"));
  status.Update(Expect(c.momentum >= 0 && c.momentum < 1, "momentum", absl::StrCat(c.momentum),
                       "a value in [0, 1)"));
  status.Update(Expect(!c.nesterov || c.momentum > 0, "nesterov", "true",
                       "--momentum > 0 (Nesterov needs momentum)"));
  status.Update(Expect(c.weight_decay >= 0, "weight_decay", absl::StrCat(c.weight_decay),
                       "a value >= 0"));
  status.Update(ParseLrSchedule(c.lr_schedule).status());
  status.Update(Expect(c.warmup_epochs >= 0, "warmup_epochs", absl::StrCat(c.warmup_epochs),
                       "a value >= 0"));
  status.Update(Expect(c.epochs >= 1, "epochs", absl::StrCat(c.epochs), "at least 1 epoch"));
  status.Update(Expect(c.steps >= 0, "steps", absl::StrCat(c.steps), "a count >= 0 (0: all)"));
  status.Update(Expect(c.eval_every >= 0, "eval_every", absl::StrCat(c.eval_every),
                       "a step count >= 0 (0: every epoch)"));
  status.Update(Expect(c.eval_batch >= 1, "eval_batch", absl::StrCat(c.eval_batch),
                       "a batch size >= 1"));
  status.Update(Expect(c.checkpoint_every >= 0, "checkpoint_every",
                       absl::StrCat(c.checkpoint_every), "a step count >= 0"));
  status.Update(Expect(!c.resume || !c.checkpoint_dir.empty(), "resume", "true",
                       "a --checkpoint_dir to resume from"));
  status.Update(Expect(c.workers >= 1 && c.workers <= 64, "workers", absl::StrCat(c.workers),
                       "between 1 and 64 in-process workers"));
  status.Update(Expect(c.comm == "inproc" || c.comm == "mpi" || c.comm == "nccl", "comm", c.comm,
                       "one of inproc, mpi, nccl"));
  status.Update(Expect(c.budget > 0 && c.budget <= 1, "budget", absl::StrCat(c.budget),
                       "a communication budget in (0, 1]"));
  status.Update(Expect(c.graphs >= 1, "graphs", absl::StrCat(c.graphs), "at least 1 graph"));
  status.Update(Expect(c.base == "dpsgd" || c.base == "matcha", "base", c.base,
                       "dpsgd or matcha"));
  status.Update(Expect(c.aldsgd_form == "code" || c.aldsgd_form == "paper", "aldsgd_form",
                       c.aldsgd_form, "code or paper"));
  status.Update(Expect(c.combine == "atc" || c.combine == "awc", "combine", c.combine,
                       "atc or awc"));
  // AWC replaces the neighbour average of stepped models; the paper form's combine needs the
  // neighbours' stepped models, and the other algorithms do not average neighbours.
  status.Update(Expect(c.combine != "awc" || c.algo == "dpsgd" || c.algo == "matcha" ||
                           (c.algo == "aldsgd" && c.aldsgd_form == "code"),
                       "combine", c.combine,
                       "atc with --algo=" + c.algo +
                           (c.algo == "aldsgd" ? " --aldsgd_form=paper" : "") +
                           " (awc applies to dpsgd, matcha and aldsgd's code form)"));
  status.Update(Expect(c.combine != "awc" || c.comm != "nccl", "combine", c.combine,
                       "atc with --comm=nccl (the GPU step combines after the local step)"));
  status.Update(Expect(c.tau >= 1, "tau", absl::StrCat(c.tau), "a period >= 1"));
  status.Update(Expect(c.algo == "allreduce" || c.algo == "dpsgd" || c.algo == "matcha" ||
                           c.algo == "aldsgd" || c.algo == "easgd" || c.algo == "lsgd" ||
                           c.algo == "adpsgd",
                       "algo", c.algo,
                       "one of allreduce, dpsgd, matcha, aldsgd, easgd, lsgd, adpsgd"));
  status.Update(Expect(c.bucket_mb > 0, "bucket_mb", absl::StrCat(c.bucket_mb),
                       "a bucket size in MiB > 0"));
  status.Update(Expect(c.min_buckets >= 1, "min_buckets", absl::StrCat(c.min_buckets),
                       "a bucket count >= 1"));
  status.Update(Expect(c.timeout_seconds > 0, "timeout", absl::StrCat(c.timeout_seconds),
                       "a positive number of seconds"));
  // The GPU step runs allreduce, the D-PSGD family and AL-DSGD's code form; its kernels are not
  // traced yet.
  status.Update(Expect(c.comm != "nccl" || c.workers == 1 || c.algo == "allreduce" ||
                           c.algo == "dpsgd" || c.algo == "matcha" ||
                           (c.algo == "aldsgd" && c.aldsgd_form == "code"),
                       "algo", c.algo,
                       "allreduce, dpsgd, matcha or aldsgd (code form) with --comm=nccl (the GPU)"));
  status.Update(Expect(c.comm != "nccl" || c.trace.empty(), "trace", c.trace,
                       "no trace with --comm=nccl (the GPU step is not traced yet)"));
  return status;
}

}  // namespace ald
