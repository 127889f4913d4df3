// //tools:overlap — the overlap report of a trace written with --trace (DESIGN.md, "Profiling"):
//   bazel run //tools:overlap -- FILE [--png=timeline.png] [--steps=3] [--first_step=N]
// Exit status: 0 done, 2 bad input (a missing or malformed trace, no steps), 1 drawing failed.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tools/overlap_report.h"
#include "tools/overlap_timeline.h"

ABSL_FLAG(std::string, png, "", "also draw a timeline of a few steps into this PNG (gnuplot)");
ABSL_FLAG(int, steps, 3, "how many steps the timeline shows");
ABSL_FLAG(int64_t, first_step, -1,
          "the first step the timeline shows (-1: the second step, past the first step's "
          "warm-up, when the trace has enough steps)");

namespace {

// `bazel run` starts in the runfiles; relative paths are meant from where the user typed.
std::string FromUserDirectory(const std::string& path) {
  const char* directory = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || directory == nullptr) return path;
  return std::string(directory) + "/" + path;
}

int Fail(int code, const absl::Status& status) {
  std::fprintf(stderr, "overlap: %s\n", std::string(status.message()).c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "overlap report of a Chrome trace: overlap FILE [--png=timeline.png] [--steps=3]");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: overlap FILE [--png=timeline.png] [--steps=3]\n");
    return 2;
  }
  const int steps = absl::GetFlag(FLAGS_steps);
  if (steps < 1) return Fail(2, absl::InvalidArgumentError("--steps must be at least 1"));

  const absl::StatusOr<std::vector<ald::TraceEvent>> events =
      ald::ReadTrace(FromUserDirectory(args[1]));
  if (!events.ok()) return Fail(2, events.status());
  const absl::StatusOr<ald::OverlapReport> report = ald::ComputeOverlap(*events);
  if (!report.ok()) {
    return Fail(2, absl::InvalidArgumentError(std::string(args[1]) + ": " +
                                              std::string(report.status().message())));
  }
  std::fputs(ald::FormatOverlapReport(*report).c_str(), stdout);

  const std::string png = absl::GetFlag(FLAGS_png);
  if (png.empty()) return 0;
  ald::TimelineOptions options;
  options.png_path = FromUserDirectory(png);
  options.steps = steps;
  options.first_step = absl::GetFlag(FLAGS_first_step);
  if (options.first_step < 0) {
    const auto& all = report->steps;
    options.first_step = all.size() > static_cast<size_t>(steps) ? all[1].first : all[0].first;
  }
  const absl::Status drawn = ald::DrawTimeline(*events, *report, options);
  if (!drawn.ok()) return Fail(drawn.code() == absl::StatusCode::kInvalidArgument ? 2 : 1, drawn);
  std::printf("timeline of steps %lld..%lld: %s\n", static_cast<long long>(options.first_step),
              static_cast<long long>(options.first_step + steps - 1), options.png_path.c_str());
  return 0;
}
