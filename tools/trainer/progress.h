// The training progress line: updated in place when stdout is a terminal, plain lines (about
// ten per epoch) when it is not, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ald {

class Progress {
 public:
  Progress(int64_t epochs, int64_t steps_per_epoch, int64_t images_per_step, FILE* out = stdout);

  // After each step: running means of the epoch's loss and accuracy.
  void Step(int64_t epoch, int64_t step_in_epoch, double loss, double accuracy, double lr);
  // At the end of an epoch (finishes the in-place line).
  void EndEpoch(int64_t epoch, double loss, double accuracy);
  void Message(const std::string& line);  // a line of its own (evaluations, checkpoints)

 private:
  std::string Line(int64_t epoch, int64_t step_in_epoch, double loss, double accuracy,
                   double lr) const;

  int64_t epochs_, steps_per_epoch_, images_per_step_;
  FILE* out_;
  bool terminal_;
  bool line_open_ = false;
  std::chrono::steady_clock::time_point start_, epoch_start_;
  int64_t steps_done_ = 0, epoch_steps_done_ = 0;
};

}  // namespace ald
