// Training metrics: a CSV with one row per evaluation per worker and the final summary JSON.
// Both are rewritten atomically (temp file, fsync, rename), so a crash never leaves a torn file.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"

namespace ald {

struct MetricsRow {
  int64_t epoch = 0, step = 0;
  int worker = 0;
  double lr = 0, train_loss = 0, train_accuracy = 0;
  double test_accuracy = -1;            // this worker's model; -1: not evaluated at this row
  double average_model_accuracy = -1;   // the average of all workers' models
  double consensus_distance = 0;        // mean_i |x_i - x_bar| / |x_bar|
  double images_per_second = 0, wall_seconds = 0;
  // Wall-clock seconds spent training up to this evaluation: wall_seconds less the time taken by
  // earlier evaluations and checkpoints (rank 0's clock), so accuracy can be plotted against the
  // time training cost. Both clocks start when this process starts training (again on --resume).
  double train_seconds = 0;
  int64_t bytes_sent = 0;
  // This worker's examples per label, "n0;n1;...": of its fixed shard, or of its first epoch's
  // under the reshuffled default (--partition).
  std::string label_histogram;
  // AL-DSGD since the previous evaluation (leader_steps -1: an algorithm without leaders): the
  // steps in which this worker chose leaders, how often its adjacent (loss) leader and its
  // degree leader changed from one such step to the next, and how often it led itself.
  int64_t leader_steps = -1;
  int64_t loss_leader_changes = 0, degree_leader_changes = 0;
  int64_t own_loss_leader = 0, own_degree_leader = 0;
};

class MetricsLog {
 public:
  explicit MetricsLog(std::string path) : path_(std::move(path)) {}
  // Adds a row and rewrites the file (no-op without a path).
  absl::Status Append(const MetricsRow& row);
  const std::vector<MetricsRow>& rows() const { return rows_; }

 private:
  std::string path_;
  std::vector<MetricsRow> rows_;
};

using JsonScalar = std::variant<std::string, double, int64_t, bool>;
// Writes a flat JSON object with the fields in order.
absl::Status WriteSummaryJson(const std::string& path,
                              const std::vector<std::pair<std::string, JsonScalar>>& fields);

}  // namespace ald
