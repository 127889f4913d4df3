// Samples how many bytes a network device has sent, so that a trace's transfers can be set
// against what the link really carried (tools/link_by_lanes.py). Run it inside the shaped
// namespace of tools/shaped_training_bench.sh; it stops on SIGTERM or SIGINT and then writes
// "unix_seconds tx_bytes" lines.
//   link_sampler --device=lo --interval_us=1000 --out=FILE
// Reading one sysfs counter a millisecond costs well under 1% of a core.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/atomic_file.h"

ABSL_FLAG(std::string, device, "lo", "the network device whose sent bytes are sampled");
ABSL_FLAG(int, interval_us, 1000, "time between samples");
ABSL_FLAG(std::string, out, "", "where the samples go (written when the sampler stops)");

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void RequestStop(int) { stop_requested = 1; }

struct Sample {
  absl::Time time;
  long long tx_bytes;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "link_sampler: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return Fail("--out is required");
  if (absl::GetFlag(FLAGS_interval_us) <= 0) return Fail("--interval_us must be positive");
  const std::string counter =
      absl::StrFormat("/sys/class/net/%s/statistics/tx_bytes", absl::GetFlag(FLAGS_device));
  const int fd = open(counter.c_str(), O_RDONLY);
  if (fd < 0) return Fail(absl::StrFormat("cannot open %s (is --device right?)", counter));
  std::signal(SIGTERM, RequestStop);
  std::signal(SIGINT, RequestStop);

  std::vector<Sample> samples;
  samples.reserve(1 << 16);
  const absl::Duration interval = absl::Microseconds(absl::GetFlag(FLAGS_interval_us));
  char text[32];
  while (!stop_requested) {
    const ssize_t length = pread(fd, text, sizeof(text) - 1, 0);
    if (length <= 0) return Fail(absl::StrFormat("cannot read %s", counter));
    text[length] = '\0';
    samples.push_back({absl::Now(), std::atoll(text)});
    absl::SleepFor(interval);
  }
  close(fd);

  std::string lines;
  for (const Sample& sample : samples) {
    absl::StrAppendFormat(&lines, "%.6f %lld\n",
                          absl::ToDoubleSeconds(sample.time - absl::UnixEpoch()), sample.tx_bytes);
  }
  const absl::Status written = ald::WriteStringAtomically(out, lines);
  if (!written.ok()) return Fail(std::string(written.message()));
  return 0;
}
