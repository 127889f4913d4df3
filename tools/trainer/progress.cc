#include "tools/trainer/progress.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_format.h"

namespace ald {
namespace {

std::string Clock(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds));
  return absl::StrFormat("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace

Progress::Progress(int64_t epochs, int64_t steps_per_epoch, int64_t images_per_step, FILE* out)
    : epochs_(epochs),
      steps_per_epoch_(steps_per_epoch),
      images_per_step_(images_per_step),
      out_(out),
      terminal_(isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      epoch_start_(start_) {}

std::string Progress::Line(int64_t epoch, int64_t step_in_epoch, double loss, double accuracy,
                           double lr) const {
  const auto now = std::chrono::steady_clock::now();
  const double epoch_seconds = std::chrono::duration<double>(now - epoch_start_).count();
  const double total_seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = epoch_seconds > 0 ? epoch_steps_done_ * images_per_step_ / epoch_seconds : 0;
  const int64_t remaining = epochs_ * steps_per_epoch_ - (epoch * steps_per_epoch_ + step_in_epoch);
  const double eta = steps_done_ > 0 ? total_seconds / steps_done_ * remaining : 0;
  return absl::StrFormat("epoch %d/%d  step %d/%d  loss %.4f  acc %5.1f%%  lr %.4g  %.0f img/s  ETA %s",
                         epoch + 1, epochs_, step_in_epoch, steps_per_epoch_, loss,
                         100 * accuracy, lr, rate, Clock(eta));
}

void Progress::Step(int64_t epoch, int64_t step_in_epoch, double loss, double accuracy, double lr) {
  ++steps_done_;
  ++epoch_steps_done_;
  const int64_t every = std::max<int64_t>(1, steps_per_epoch_ / 10);
  if (terminal_) {
    std::fprintf(out_, "\r%s\033[K", Line(epoch, step_in_epoch, loss, accuracy, lr).c_str());
    line_open_ = true;
  } else if (step_in_epoch % every == 0 && step_in_epoch < steps_per_epoch_) {
    std::fprintf(out_, "%s\n", Line(epoch, step_in_epoch, loss, accuracy, lr).c_str());
  }
  std::fflush(out_);
}

void Progress::EndEpoch(int64_t epoch, double loss, double accuracy) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  if (line_open_) std::fprintf(out_, "\n");
  line_open_ = false;
  std::fprintf(out_, "%s\n",
               absl::StrFormat("epoch %d/%d done: loss %.4f  train acc %.1f%%  %.0f img/s  %.1f s",
                               epoch + 1, epochs_, loss, 100 * accuracy,
                               seconds > 0 ? epoch_steps_done_ * images_per_step_ / seconds : 0.0,
                               seconds)
                   .c_str());
  std::fflush(out_);
  epoch_start_ = std::chrono::steady_clock::now();
  epoch_steps_done_ = 0;
}

void Progress::Message(const std::string& line) {
  if (line_open_) std::fprintf(out_, "\n");
  line_open_ = false;
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

}  // namespace ald
