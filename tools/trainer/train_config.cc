#include "tools/trainer/train_config.h"

#include <cmath>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/numbers.h"
#include "comm/algorithms/registry.h"
#include "comm/wire_format.h"
#include "data/partition.h"
#include "tools/trainer/lr_schedule.h"

namespace ald {
namespace {

absl::Status Expect(bool ok, const std::string& flag, const std::string& value,
                    const std::string& expected) {
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "=", value, ": expected ", expected));
}

// A flag's value as the command line spells it (and checkpoints store it).
template <typename T>
std::string FlagText(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_arithmetic_v<T>) {
    return absl::StrCat(value);
  } else {
    return value;
  }
}

// Each flag's check of its own value (train_flags.inc).
absl::Status ValidateEachFlag(const TrainConfig& c) {
  absl::Status status;
#define TRAIN_FLAG(type, flag, field, default_value, checkpointed, help, valid, expected) \
  {                                                                                        \
    [[maybe_unused]] const type& v = c.field;                                             \
    status.Update(Expect(valid, #flag, FlagText(v), expected));                           \
  }
#include "tools/trainer/train_flags.inc"
  return status;
}

}  // namespace

absl::StatusOr<double> ParseLeaderLoss(const std::string& text) {
  if (text == "batch") return 0.0;
  double beta = 0;
  if (text.rfind("ema:", 0) == 0 && absl::SimpleAtod(text.substr(4), &beta) && beta > 0 &&
      beta < 1) {
    return beta;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("leader loss '", text, "': expected batch or ema:BETA with BETA in (0, 1)"));
}

std::map<std::string, std::string> TrainConfig::AsFlags() const {
  std::map<std::string, std::string> flags;
#define TRAIN_FLAG(type, flag, field, default_value, checkpointed, ...) \
  if (checkpointed != kNotCheckpointed) flags[#flag] = FlagText(field);
#include "tools/trainer/train_flags.inc"
  return flags;
}

int GraphCopies(const TrainConfig& config) {
  if (config.graphs > 0) return config.graphs;
  return config.algo == "aldsgd" ? 2 : 1;
}

absl::Status ValidateConfig(const TrainConfig& c) {
  // The first error wins: each flag's own check, then those that involve several flags.
  absl::Status status = ValidateEachFlag(c);
  status.Update(Expect(!c.nesterov || c.momentum > 0, "nesterov", "true",
                       "--momentum > 0 (Nesterov needs momentum)"));
  status.Update(ParseLrSchedule(c.lr_schedule).status());
  // AL-DSGD (DESIGN.md): the boost z = (1 - c1 - c2) z0 + c1 y_N + c2 y_tau and the code form's
  // pull x = (1 - p1 - p2) z + p1 y_N + p2 y_tau are convex combinations only when the weights
  // sum to at most 1 (more puts a negative weight on the own model); the paper form scales the
  // pull by the learning rate, and lr (p1 + p2) > 1 steps past the leaders.
  status.Update(Expect(c.c1 + c.c2 <= 1, "c1", absl::StrCat(c.c1),
                       absl::StrCat("--c1 + --c2 <= 1 (--c2=", c.c2,
                                    "; 1 - c1 - c2 weights the own model)")));
  if (c.aldsgd_form == "code") {
    status.Update(Expect(c.p1 + c.p2 <= 1, "p1", absl::StrCat(c.p1),
                         absl::StrCat("--p1 + --p2 <= 1 (--p2=", c.p2,
                                      "; 1 - p1 - p2 weights the boosted model)")));
  } else {
    status.Update(Expect(c.lr * (c.p1 + c.p2) <= 1, "p1", absl::StrCat(c.p1),
                         absl::StrCat("--lr * (--p1 + --p2) <= 1 with --aldsgd_form=paper (--lr=",
                                      c.lr, ", --p2=", c.p2, ")")));
  }
  status.Update(Expect(!c.resume || !c.checkpoint_dir.empty(), "resume", "true",
                       "a --checkpoint_dir to resume from"));
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
  // The GPU runs the algorithms the registry marks so, AL-DSGD in its code form only; its
  // kernels are not traced yet.
  const AlgorithmEntry* algorithm = FindAlgorithm(c.algo);
  status.Update(Expect(c.comm != "nccl" || c.workers == 1 ||
                           (algorithm != nullptr && algorithm->runs_on_gpu &&
                            (c.algo != "aldsgd" || c.aldsgd_form == "code")),
                       "algo", c.algo,
                       AlgorithmNameList(/*gpu_only=*/true) +
                           " (aldsgd in its code form) with --comm=nccl (the GPU)"));
  // Graph copies only mean something to the algorithms that walk the topology step by step.
  status.Update(Expect(GraphCopies(c) == 1 || c.algo == "dpsgd" || c.algo == "matcha" ||
                           c.algo == "aldsgd",
                       "graphs", std::to_string(c.graphs),
                       "1 with --algo=" + c.algo + " (graph copies apply to dpsgd, matcha, aldsgd)"));
  // Only models are rounded on the wire; the GPU exchange moves fp32 only so far.
  status.Update(Expect(c.wire == "fp32" || algorithm == nullptr || algorithm->sends_models, "wire",
                       c.wire,
                       "fp32 with --algo=" + c.algo + " (bf16 applies to the algorithms that "
                       "send models: " + ModelSendingAlgorithmList() + ")"));
  status.Update(Expect(c.wire == "fp32" || c.comm != "nccl", "wire", c.wire,
                       "fp32 with --comm=nccl (the GPU exchange sends fp32 only so far)"));
  // The alternating schedule is the authors' D-PSGD: MATCHA samples its own matchings.
  const bool over_dpsgd = c.algo == "dpsgd" || (c.algo == "aldsgd" && c.base == "dpsgd");
  status.Update(Expect(c.dpsgd_schedule == "all" || over_dpsgd, "dpsgd_schedule", c.dpsgd_schedule,
                       "all with --algo=" + c.algo +
                           (c.algo == "aldsgd" ? " --base=" + c.base : "") +
                           " (alternate applies to dpsgd and to aldsgd --base=dpsgd)"));
  status.Update(Expect(c.leader_loss == "batch" || c.algo == "aldsgd", "leader_loss",
                       c.leader_loss, "batch with --algo=" + c.algo + " (only aldsgd has leaders)"));
  status.Update(Expect(c.comm != "nccl" || c.trace.empty(), "trace", c.trace,
                       "no trace with --comm=nccl (the GPU step is not traced yet)"));
  return status;
}

absl::Status CheckResumable(const TrainConfig& c,
                            const std::map<std::string, std::string>& checkpoint_flags,
                            const std::string& file) {
  const auto same = [&](const char* flag, const std::string& now) -> absl::Status {
    const auto saved = checkpoint_flags.find(flag);
    if (saved == checkpoint_flags.end() || saved->second == now) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", now, ": ", file, " was written with --", flag, "=",
                     saved->second, "; resume with that value (the checkpoint's state means "
                     "something else under another)"));
  };
  absl::Status status;
#define TRAIN_FLAG(type, flag, field, default_value, checkpointed, ...) \
  if (checkpointed == kFixedOnResume) status.Update(same(#flag, FlagText(c.field)));
#include "tools/trainer/train_flags.inc"
  return status;
}

}  // namespace ald
