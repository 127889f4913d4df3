// Communicator benchmark: point-to-point latency and bandwidth (ping-pong between ranks 0 and 1,
// medians) for 1 KiB .. 64 MiB, and the time of one ring neighbour exchange of a ResNet-20- and
// a VGG-11-sized parameter buffer, through the trainer's NeighborExchange (in --wire's format).
//   bazel run -c opt //comm:bench                      (inproc: threads of this process)
//   mpirun -np 4 bazel-bin/comm/bench --comm=mpi       (one process per rank)
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "comm/inproc_communicator.h"
#include "comm/mpi_communicator.h"
#include "comm/neighbor_exchange.h"
#include "comm/wire_format.h"

ABSL_FLAG(std::string, comm, "inproc", "inproc | mpi");
ABSL_FLAG(std::vector<std::string>, ring_sizes, std::vector<std::string>({"4", "8"}),
          "inproc: the ring sizes of the neighbour exchange (mpi: the job's size)");
ABSL_FLAG(int64_t, min_bytes, 1 << 10, "smallest ping-pong message");
ABSL_FLAG(int64_t, max_bytes, 64 << 20, "largest ping-pong message");
ABSL_FLAG(double, timeout, 60.0, "communicator timeout in seconds");
ABSL_FLAG(int, poll_interval_us, 200, "mpi: how often the progress thread polls while waiting");
ABSL_FLAG(int, repeats, 0,
          "ping-pong round trips per size; 0: 256 MiB worth, between 5 and 200 (a slow link "
          "wants fewer)");
ABSL_FLAG(bool, exchange, true, "mpi: run the ring neighbour exchanges after the ping-pong");
ABSL_FLAG(bool, progress, true, "mpi: measure the progress thread's CPU use (takes 2 s)");
ABSL_FLAG(std::string, wire, "fp32",
          "neighbour exchange: fp32 | bf16 (the trainer's --wire: pack, send half the bytes, "
          "unpack)");
ABSL_FLAG(int, messages, 1,
          "neighbour exchange: split each neighbour's buffer into this many messages posted at "
          "once (the trainer sends one per bucket)");

namespace ald {
namespace {

constexpr size_t kResNet20Floats = 269722;
constexpr size_t kVgg11Floats = 9228362;

// Stops the benchmark with a message naming what failed (a benchmark has nobody to return to).
void Check(const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "comm bench failed: %s\n", std::string(status.message()).c_str());
  std::exit(1);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string HumanBytes(int64_t bytes) {
  if (bytes >= (1 << 20)) return absl::StrFormat("%d MiB", bytes >> 20);
  if (bytes < (1 << 10)) return absl::StrFormat("%d B", bytes);
  return absl::StrFormat("%d KiB", bytes >> 10);
}

// Round trips between ranks 0 and 1; rank 0 prints the median one-way time and its bandwidth.
void PingPong(Communicator& comm) {
  if (comm.rank() == 0) {
    std::printf("ping-pong rank 0 <-> 1, %s backend, median one-way time\n",
                absl::GetFlag(FLAGS_comm).c_str());
    std::printf("%10s %12s %12s %12s\n", "bytes", "latency_us", "MB/s", "Gbit/s");
  }
  for (int64_t bytes = absl::GetFlag(FLAGS_min_bytes); bytes <= absl::GetFlag(FLAGS_max_bytes);
       bytes *= 4) {
    const int repeats =
        absl::GetFlag(FLAGS_repeats) > 0
            ? absl::GetFlag(FLAGS_repeats)
            : static_cast<int>(std::clamp<int64_t>((256 << 20) / bytes, 5, 200));
    std::vector<std::byte> buffer(bytes);
    std::vector<double> one_way_seconds;
    Check(comm.Barrier());
    for (int repeat = 0; repeat <= repeats; ++repeat) {  // the first round trip warms up
      const absl::Time start = absl::Now();
      if (comm.rank() == 0) {
        Check(comm.Isend(1, repeat, std::span<const std::byte>(buffer)).Wait());
        Check(comm.Irecv(1, repeat, std::span(buffer)).Wait());
      } else if (comm.rank() == 1) {
        Check(comm.Irecv(0, repeat, std::span(buffer)).Wait());
        Check(comm.Isend(0, repeat, std::span<const std::byte>(buffer)).Wait());
      }
      if (repeat > 0) one_way_seconds.push_back(absl::ToDoubleSeconds(absl::Now() - start) / 2);
    }
    if (comm.rank() == 0) {
      const double seconds = Median(one_way_seconds);
      std::printf("%10s %12.1f %12.1f %12.3f\n", HumanBytes(bytes).c_str(), seconds * 1e6,
                  bytes / seconds / 1e6, bytes * 8 / seconds / 1e9);
    }
  }
}

// Each rank sends its whole buffer to both ring neighbours and receives theirs, as --messages
// messages per neighbour posted at once (the trainer sends one per bucket), through the
// trainer's NeighborExchange in --wire's format; rank 0 prints the median over repeats of the
// time from a barrier to the end of the slowest rank's exchange (unpacking included).
void RingExchange(Communicator& comm, const char* model, size_t floats) {
  const int n = comm.size(), me = comm.rank();
  const int messages = std::max(1, absl::GetFlag(FLAGS_messages));
  const absl::StatusOr<WireFormat> wire = ParseWireFormat(absl::GetFlag(FLAGS_wire));
  Check(wire.status());
  std::vector<float> mine(floats);
  for (size_t i = 0; i < floats; ++i) mine[i] = 1.0f + 1e-3f * static_cast<float>(i % 1000);
  CommStats stats;
  ald::NeighborExchange exchange(&comm, ExchangeKind::kModel, floats, messages, &stats, *wire);
  const std::vector<ActiveNeighbor> ring = {{.rank = (me + n - 1) % n}, {.rank = (me + 1) % n}};
  std::vector<double> seconds;
  for (int repeat = 0; repeat <= 5; ++repeat) {
    Check(comm.Barrier());
    const absl::Time start = absl::Now();
    exchange.Begin(ring, repeat);
    for (int m = 0; m < messages; ++m) {
      const size_t begin = floats * m / messages, end = floats * (m + 1) / messages;
      Check(exchange.Post(m, {begin, end - begin}, mine));
    }
    Check(exchange.WaitAll());
    Check(comm.Barrier());
    if (repeat > 0) seconds.push_back(absl::ToDoubleSeconds(absl::Now() - start));
  }
  if (me == 0) {
    std::printf("neighbour exchange, ring of %d, %-9s (%8zu floats, %6.2f MiB in %s%s): %9.3f ms\n",
                n, model, floats, floats * WireBytesPerFloat(*wire) / double{1 << 20},
                WireFormatName(*wire),
                messages > 1 ? absl::StrCat(", ", messages, " messages").c_str() : "",
                Median(seconds) * 1e3);
  }
}

void RunAll(Communicator& comm, bool ping_pong) {
  if (ping_pong && comm.size() >= 2) PingPong(comm);
  if (!absl::GetFlag(FLAGS_exchange)) return;
  RingExchange(comm, "ResNet-20", kResNet20Floats);
  RingExchange(comm, "VGG-11", kVgg11Floats);
}

// Runs `body` on every rank of a fresh inproc world of `size` threads.
void RunInproc(int size, const std::function<void(Communicator&)>& body) {
  auto world = InprocWorld::Create(size, {.timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout))});
  Check(world.status());
  std::vector<std::thread> threads;
  for (int rank = 0; rank < size; ++rank) {
    auto comm = (*world)->Join(rank);
    Check(comm.status());
    threads.emplace_back([&body, comm = std::move(*comm)] { body(*comm); });
  }
  for (auto& thread : threads) thread.join();
}

// The progress thread's CPU use over one second with nothing in flight and with one receive
// that never completes (so it polls).
void MeasureProgressThread(Communicator& comm) {
  auto cpu_per_second = [] {
    const absl::Duration before = MpiProgressThreadCpuTime();
    absl::SleepFor(absl::Seconds(1));
    return absl::ToDoubleMilliseconds(MpiProgressThreadCpuTime() - before);
  };
  const double idle = cpu_per_second();
  std::vector<float> never(1);
  Request pending = comm.Irecv(comm.rank(), 1 << 20, std::span(never));
  const double polling = cpu_per_second();
  if (comm.rank() == 0) {
    std::printf("progress thread CPU: %.1f ms/s idle, %.1f ms/s while a receive is pending\n",
                idle, polling);
  }
}

}  // namespace
}  // namespace ald

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Duration timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout));
  if (absl::GetFlag(FLAGS_comm) == "mpi") {
    auto comm = ald::CreateMpiCommunicator(
        {.comm = {.timeout = timeout},
         .poll_interval = absl::Microseconds(absl::GetFlag(FLAGS_poll_interval_us))});
    ald::Check(comm.status());
    ald::RunAll(**comm, /*ping_pong=*/true);
    if (absl::GetFlag(FLAGS_progress)) ald::MeasureProgressThread(**comm);
    return 0;
  }
  if (absl::GetFlag(FLAGS_comm) != "inproc") {
    std::fprintf(stderr, "--comm must be inproc or mpi, not '%s'\n", absl::GetFlag(FLAGS_comm).c_str());
    return 2;
  }
  ald::RunInproc(2, [](ald::Communicator& comm) { ald::PingPong(comm); });
  for (const std::string& size : absl::GetFlag(FLAGS_ring_sizes)) {
    ald::RunInproc(std::stoi(size), [](ald::Communicator& comm) { ald::RunAll(comm, false); });
  }
  return 0;
}
