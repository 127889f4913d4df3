#include "tools/trainer/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/atomic_file.h"
#include "core/json.h"

namespace ald {

absl::Status MetricsLog::Append(const MetricsRow& row) {
  rows_.push_back(row);
  if (path_.empty()) return absl::OkStatus();
  std::string csv =
      "epoch,step,worker,lr,train_loss,train_accuracy,test_accuracy,average_model_accuracy,"
      "consensus_distance,images_per_second,wall_seconds,bytes_sent,"
      "train_seconds,label_histogram,leader_steps,loss_leader_changes,degree_leader_changes,"
      "own_loss_leader,own_degree_leader\n";
  auto optional = [](double v) { return v < 0 ? std::string() : absl::StrFormat("%.4f", v); };
  for (const MetricsRow& r : rows_) {
    absl::StrAppend(&csv, absl::StrFormat("%d,%d,%d,%.6g,%.6f,%.4f,%s,%s,%.6g,%.1f,%.2f,%d,%.3f,%s,",
                                          r.epoch, r.step, r.worker, r.lr, r.train_loss,
                                          r.train_accuracy, optional(r.test_accuracy),
                                          optional(r.average_model_accuracy),
                                          r.consensus_distance, r.images_per_second,
                                          r.wall_seconds, r.bytes_sent, r.train_seconds,
                                          r.label_histogram));
    absl::StrAppend(&csv, r.leader_steps < 0
                              ? ",,,,\n"
                              : absl::StrFormat("%d,%d,%d,%d,%d\n", r.leader_steps,
                                                r.loss_leader_changes, r.degree_leader_changes,
                                                r.own_loss_leader, r.own_degree_leader));
  }
  absl::Status written = WriteStringAtomically(path_, csv);
  if (!written.ok()) {
    return absl::Status(written.code(), absl::StrCat("--metrics: ", written.message()));
  }
  return absl::OkStatus();
}

absl::Status WriteSummaryJson(const std::string& path,
                              const std::vector<std::pair<std::string, JsonScalar>>& fields) {
  if (path.empty()) return absl::OkStatus();
  std::string json = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    absl::StrAppend(&json, i ? ", " : "", json::Quote(fields[i].first), ": ");
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>) {
            absl::StrAppend(&json, json::Quote(value));
          } else if constexpr (std::is_same_v<T, bool>) {
            absl::StrAppend(&json, value ? "true" : "false");
          } else if constexpr (std::is_same_v<T, double>) {
            // JSON has no NaN or infinity.
            absl::StrAppend(&json, std::isfinite(value) ? absl::StrFormat("%.6g", value) : "null");
          } else {
            absl::StrAppend(&json, value);
          }
        },
        fields[i].second);
  }
  absl::StrAppend(&json, "}\n");
  absl::Status written = WriteStringAtomically(path, json);
  if (!written.ok()) {
    return absl::Status(written.code(), absl::StrCat("--summary_json: ", written.message()));
  }
  return absl::OkStatus();
}

}  // namespace ald
