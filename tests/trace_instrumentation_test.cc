// What the instrumented code records: a compiled plan one event per launch, the algorithms their
// updates, transfers (each on a lane of its own while in flight), waits and collectives; and the
// overlap report reads the result.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "comm/algorithms/algorithm.h"
#include "comm/algorithms/algorithm_testing.h"
#include "comm/topology/network_graph.h"
#include "comm/topology/topology.h"
#include "core/status.h"
#include "core/trace.h"
#include "comm/algorithms/registry.h"
#include "graph/compiler.h"
#include "graph/step_scheduler.h"
#include "gtest/gtest.h"
#include "models/registry.h"
#include "tools/overlap_report.h"

namespace ald {
namespace {

TEST(PlanTraceTest, OneEventPerLaunchNamedAfterIt) {
  ModelOptions options;
  options.batch = 2;
  options.channels = 1;
  options.height = options.width = 12;
  options.classes = 5;
  absl::StatusOr<ModelGraph> graph = BuildModel("lenet5", options);
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<CompiledModel> model = CompileModel(*std::move(graph), nullptr, {});
  ASSERT_TRUE(model.ok()) << model.status();
  model->store->Initialize(1);
  Plan& plan = *model->train;

  Trace trace;
  plan.SetTrace(&trace, /*pid=*/3, kComputeTid);
  ASSERT_TRUE(plan.Run(DropoutKey{.seed = 1, .worker = 3, .step = 7}).ok());
  const std::vector<TraceEvent> events = trace.Events();
  const std::vector<Launch>& launches = plan.launches();
  ASSERT_EQ(events.size(), launches.size());
  std::map<std::string, const TraceEvent*> by_name;
  for (const TraceEvent& event : events) by_name[event.name] = &event;
  ASSERT_EQ(by_name.size(), launches.size()) << "launch names are not unique";
  bool saw_backward = false;
  const TraceEvent* previous = nullptr;
  for (const Launch& launch : launches) {
    const TraceEvent* event = by_name[launch.name];
    ASSERT_NE(event, nullptr) << launch.name;
    EXPECT_EQ(event->category, launch.backward ? "backward" : "forward");
    EXPECT_EQ(event->pid, 3);
    EXPECT_EQ(event->tid, kComputeTid);
    EXPECT_EQ(event->IntArg("step", -1), 7);
    // Launches run one after another, so their events follow each other.
    if (previous != nullptr) {
      EXPECT_GE(event->ts_us, previous->ts_us + previous->dur_us) << launch.name;
    }
    previous = event;
    saw_backward |= launch.backward;
  }
  EXPECT_TRUE(saw_backward);

  plan.SetTrace(nullptr, 0, 0);
  ASSERT_TRUE(plan.Run(DropoutKey{.step = 8}).ok());
  EXPECT_EQ(trace.Events().size(), launches.size());
}

constexpr int kWorkers = 4, kSteps = 3;
const std::vector<size_t> kBuckets = {3000, 1000, 4000};

// Runs `algorithm` on kWorkers in-process workers for kSteps, each step a "step" event.
std::vector<TraceEvent> TraceAlgorithm(const std::string& algorithm,
                                       const AlgorithmOptions& options = {}) {
  absl::StatusOr<NetworkGraph> ring = RingGraph(kWorkers);
  EXPECT_TRUE(ring.ok()) << ring.status();
  absl::StatusOr<Topology> topology = Topology::Create(*ring, {});
  EXPECT_TRUE(topology.ok()) << topology.status();
  Trace trace;
  const absl::Status status = testing::RunWorkers(kWorkers, [&](int rank, Communicator& comm) {
    testing::TestWorker worker(std::vector<float>(8000, 1.0f + rank), kBuckets);
    AlgorithmContext context{&comm, &*topology, worker.buffers(), options};
    ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algo, CreateAlgorithm(algorithm, context));
    algo->SetTrace(&trace, rank);
    RETURN_IF_ERROR(algo->Start());
    for (int step = 0; step < kSteps; ++step) {
      ScopedTraceEvent step_event(&trace, rank, kComputeTid, "step", "step", {{"step", step}});
      RETURN_IF_ERROR(testing::RunStep(*algo, step, LocalStep{}, 0.5f + rank,
                                       static_cast<int>(kBuckets.size())));
    }
    return algo->Finish();
  });
  EXPECT_TRUE(status.ok()) << status;
  return trace.Events();
}

std::map<std::string, int> CountByName(const std::vector<TraceEvent>& events, int pid) {
  std::map<std::string, int> counts;
  for (const TraceEvent& event : events) {
    if (event.pid == pid) ++counts[event.name];
  }
  return counts;
}

// Perfetto drops slices that partly overlap on one thread: events on a lane must be disjoint.
void ExpectLanesDisjoint(const std::vector<TraceEvent>& events) {
  std::map<std::pair<int, int>, int64_t> lane_free_at;
  for (const TraceEvent& event : events) {
    if (event.category != "comm") continue;
    EXPECT_GE(event.tid, kCommTid);
    int64_t& free_at = lane_free_at[{event.pid, event.tid}];
    EXPECT_GE(event.ts_us, free_at) << event.name << " on worker " << event.pid << " lane "
                                    << event.tid;
    free_at = event.ts_us + event.dur_us;
  }
}

// What holds for every worker-step of any trace: compute (waits excluded) and the waits are
// disjoint parts of the step; overlap is part of both compute and communication. Exposed is not
// bounded by communication: a wait also lasts while its thread is woken after the transfer
// finished, or while a slower neighbour has not yet sent anything.
void ExpectStepTimesConsistent(const OverlapReport& report) {
  for (const StepTimes& times : report.worker_steps) {
    const int64_t wall = times.window.end - times.window.begin;
    EXPECT_GE(times.compute_us, 0);
    EXPECT_GE(times.exposed_us, 0);
    EXPECT_LE(times.compute_us + times.exposed_us, wall)
        << "worker " << times.pid << " step " << times.step;
    EXPECT_GE(times.overlap_us, 0);
    EXPECT_LE(times.overlap_us, std::min(times.compute_us, times.comm_us))
        << "worker " << times.pid << " step " << times.step;
  }
}

TEST(AlgorithmTraceTest, DpsgdRecordsUpdatesTransfersAndWaits) {
  const std::vector<TraceEvent> events = TraceAlgorithm("dpsgd");
  for (int pid = 0; pid < kWorkers; ++pid) {
    std::map<std::string, int> counts = CountByName(events, pid);
    const int buckets = static_cast<int>(kBuckets.size());
    EXPECT_EQ(counts["step"], kSteps);
    EXPECT_EQ(counts["update"], kSteps * buckets);
    EXPECT_EQ(counts["combine"], kSteps * buckets);  // one per bucket (deferrable)
    EXPECT_EQ(counts["send"], kSteps * buckets * 2);  // two ring neighbours
    EXPECT_EQ(counts["recv"], kSteps * buckets * 2);
    EXPECT_EQ(counts["wait"], kSteps * buckets);  // EndStep waits bucket by bucket
  }
  std::set<int64_t> sizes;
  for (const TraceEvent& event : events) {
    if (event.name != "send" && event.name != "recv") continue;
    const int64_t peer = event.IntArg("peer", -1);
    EXPECT_TRUE(peer == (event.pid + 1) % kWorkers || peer == (event.pid + 3) % kWorkers);
    const int64_t bucket = event.IntArg("bucket", -1);
    ASSERT_TRUE(bucket >= 0 && bucket < static_cast<int64_t>(kBuckets.size()));
    EXPECT_EQ(event.IntArg("bytes", -1), static_cast<int64_t>(kBuckets[bucket] * sizeof(float)));
    EXPECT_EQ(event.category, "comm");
  }
  ExpectLanesDisjoint(events);

  absl::StatusOr<OverlapReport> report = ComputeOverlap(events);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->step_source, "step events");
  EXPECT_EQ(report->total.samples, kWorkers * kSteps);
  EXPECT_GT(report->total.comm_us, 0);
  ExpectStepTimesConsistent(*report);
}

// Adapt with combine, sequential or pipelined alike: each step sends the whole pre-step model, one message per
// neighbour, as the step begins (before the step waits for anything), and takes the local step
// of every bucket after the combine.
TEST(AlgorithmTraceTest, AdaptWithCombineSendsTheWholeModelAsTheStepBegins) {
  AlgorithmOptions options;
  options.combine = CombineOrder::kAdaptWithCombine;
  const std::vector<TraceEvent> events = TraceAlgorithm("dpsgd", options);
  const int buckets = static_cast<int>(kBuckets.size());
  for (int pid = 0; pid < kWorkers; ++pid) {
    std::map<std::string, int> counts = CountByName(events, pid);
    EXPECT_EQ(counts["send"], kSteps * 2) << "worker " << pid;
    EXPECT_EQ(counts["recv"], kSteps * 2) << "worker " << pid;
    EXPECT_EQ(counts["combine"], kSteps * buckets) << "worker " << pid;
    EXPECT_EQ(counts["update"], kSteps * buckets) << "worker " << pid;
  }
  for (const TraceEvent& step : events) {
    if (step.name != "step") continue;
    // Half-open: the next step may begin in the microsecond this one ends.
    const int64_t begin = step.ts_us, end = step.ts_us + step.dur_us;
    int64_t first_wait = end, sends = 0;
    for (const TraceEvent& event : events) {
      if (event.pid != step.pid || event.ts_us < begin || event.ts_us >= end) continue;
      if (event.name == "wait") first_wait = std::min(first_wait, event.ts_us);
    }
    for (const TraceEvent& event : events) {
      if (event.pid != step.pid || event.name != "send" || event.ts_us < begin ||
          event.ts_us >= end) {
        continue;
      }
      ++sends;
      EXPECT_EQ(event.IntArg("bytes", -1), static_cast<int64_t>(8000 * sizeof(float)));
      EXPECT_EQ(event.StringArg("kind"), "pre-step model");
      EXPECT_LE(event.ts_us, first_wait) << "worker " << step.pid << " sent after waiting";
    }
    EXPECT_EQ(sends, 2) << "worker " << step.pid << ", step " << step.IntArg("step", -1);
  }
  ExpectLanesDisjoint(events);
  absl::StatusOr<OverlapReport> report = ComputeOverlap(events);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectStepTimesConsistent(*report);
}

// On a 4-ring the even ranks are AD-PSGD's actives: each step one round trip ("average", a
// wait inside it) and an update; the odd ranks' serving threads answer every request.
TEST(AlgorithmTraceTest, AdpsgdRecordsRoundTripsAndServedAverages) {
  const std::vector<TraceEvent> events = TraceAlgorithm("adpsgd");
  int served = 0;
  for (int pid = 0; pid < kWorkers; ++pid) {
    std::map<std::string, int> counts = CountByName(events, pid);
    EXPECT_EQ(counts["update"], kSteps) << "worker " << pid;
    if (pid % 2 == 0) {
      EXPECT_EQ(counts["average"], kSteps) << "worker " << pid;
      EXPECT_GE(counts["wait"], kSteps) << "worker " << pid;
      EXPECT_EQ(counts["serve average"], 0) << "worker " << pid;
    } else {
      EXPECT_EQ(counts["average"], 0) << "worker " << pid;
      served += counts["serve average"];
    }
  }
  EXPECT_EQ(served, 2 * kSteps);
  for (const TraceEvent& event : events) {
    if (event.name != "average" && event.name != "serve average") continue;
    EXPECT_EQ(event.category, "comm");
    EXPECT_EQ(event.IntArg("bytes", 0), static_cast<int64_t>(8000 * sizeof(float)) +
                                            (event.name == "average" ? 4 : 0));
  }
  ExpectLanesDisjoint(events);
}

// All-reduce SGD posts each bucket's all-reduce to its lane and waits for it when the step ends:
// every collective is a comm event, every wait on the compute thread ends after its collective.
TEST(AlgorithmTraceTest, AllReduceRecordsPostedCollectivesAndTheWaitsForThem) {
  const std::vector<TraceEvent> events = TraceAlgorithm("allreduce");
  for (int pid = 0; pid < kWorkers; ++pid) {
    std::map<std::string, int> counts = CountByName(events, pid);
    const int buckets = static_cast<int>(kBuckets.size());
    EXPECT_EQ(counts["all-reduce"], kSteps * buckets);
    EXPECT_EQ(counts["wait"], kSteps * buckets);
    EXPECT_EQ(counts["update"], kSteps * buckets);
  }
  std::map<int, std::vector<const TraceEvent*>> collectives, waits;
  for (const TraceEvent& event : events) {
    if (event.name == "all-reduce") collectives[event.pid].push_back(&event);
    if (event.name == "wait") waits[event.pid].push_back(&event);
  }
  // Paired in order of their ends: each list runs on one thread, one after another, so that is
  // their order. (The trace sorts by start, longer first on a tie: a wait of 0 us that began in
  // the same microsecond as the next, longer one would come after it.)
  auto by_end = [](const TraceEvent* a, const TraceEvent* b) {
    return a->ts_us + a->dur_us < b->ts_us + b->dur_us;
  };
  for (int pid = 0; pid < kWorkers; ++pid) {
    ASSERT_EQ(collectives[pid].size(), waits[pid].size());
    std::stable_sort(collectives[pid].begin(), collectives[pid].end(), by_end);
    std::stable_sort(waits[pid].begin(), waits[pid].end(), by_end);
    for (size_t k = 0; k < waits[pid].size(); ++k) {
      const TraceEvent& collective = *collectives[pid][k];
      const TraceEvent& wait = *waits[pid][k];
      EXPECT_GT(collective.IntArg("bytes", 0), 0);
      EXPECT_NE(collective.tid, kComputeTid);
      EXPECT_EQ(wait.tid, kComputeTid);
      EXPECT_LE(collective.ts_us, wait.ts_us + wait.dur_us);
      EXPECT_GE(wait.ts_us + wait.dur_us, collective.ts_us + collective.dur_us);
    }
  }
  ExpectLanesDisjoint(events);
  absl::StatusOr<OverlapReport> report = ComputeOverlap(events);
  ASSERT_TRUE(report.ok()) << report.status();
  // Exposed time is not bounded by the comm events here: a wait may begin while its collective
  // is still queued behind the previous bucket's, and ends only once the lane hands it over.
  ExpectStepTimesConsistent(*report);
}

// The trainer's pipelined step on real plans: launches, bucket updates and the exchange posted
// during backward all land in one trace the overlap report reads. With TEST_UNDECLARED_OUTPUTS_DIR
// set (bazel test does) the trace is kept there as pipelined_dpsgd_trace.json.
TEST(PipelinedTraceTest, PlansAndExchangesShareOneTrace) {
  absl::StatusOr<NetworkGraph> ring = RingGraph(kWorkers);
  ASSERT_TRUE(ring.ok()) << ring.status();
  absl::StatusOr<Topology> topology = Topology::Create(*ring, {});
  ASSERT_TRUE(topology.ok()) << topology.status();
  Trace trace;
  int num_buckets = 0;
  const absl::Status status = testing::RunWorkers(kWorkers, [&](int rank, Communicator& comm) {
    ModelOptions options;
    options.batch = 8;
    options.channels = 1;
    options.height = options.width = 28;
    ASSIGN_OR_RETURN(ModelGraph graph, BuildModel("lenet5", options));
    CompileOptions compile;
    compile.bucket_cap_bytes = 64 << 10;  // several buckets, so exchanges start during backward
    ASSIGN_OR_RETURN(CompiledModel model, CompileModel(std::move(graph), nullptr, compile));
    model.store->Initialize(1);
    ParameterStore& store = *model.store;
    AlgorithmContext context{&comm, &*topology, {}, {}};
    context.buffers = {store.parameters(), store.gradients(), store.momentum(), {}};
    for (const Bucket& bucket : store.buckets()) {
      context.buffers.buckets.push_back({bucket.offset, bucket.size});
    }
    if (rank == 0) num_buckets = static_cast<int>(store.buckets().size());
    ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, CreateAlgorithm("dpsgd", context));
    Plan& plan = *model.train;
    CpuStepPlan steps(plan);
    StepScheduler scheduler(steps, *algorithm, /*pipelined=*/true);
    plan.SetTrace(&trace, rank, kComputeTid);
    algorithm->SetTrace(&trace, rank);
    RETURN_IF_ERROR(algorithm->Start());
    std::fill(plan.input().values<float>().begin(), plan.input().values<float>().end(), 0.5f);
    std::fill(plan.labels().values<int32_t>().begin(), plan.labels().values<int32_t>().end(),
              rank % 10);
    for (int step = 0; step < kSteps; ++step) {
      ScopedTraceEvent step_event(&trace, rank, kComputeTid, "step", "step", {{"step", step}});
      RETURN_IF_ERROR(scheduler.Step(
          step, LocalStep{},
          DropoutKey{1, static_cast<uint32_t>(rank), static_cast<uint32_t>(step)}));
    }
    return scheduler.Flush();
  });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_GT(num_buckets, 1);

  const std::vector<TraceEvent> events = trace.Events();
  ExpectLanesDisjoint(events);
  std::map<std::string, int> counts = CountByName(events, 0);
  EXPECT_EQ(counts["update"], kSteps * num_buckets);
  EXPECT_EQ(counts["send"], kSteps * num_buckets * 2);
  // A bucket's exchange is posted inside backward: its update starts before the last launch ends.
  int64_t first_update = INT64_MAX, last_backward_end = 0;
  for (const TraceEvent& event : events) {
    if (event.pid != 0 || event.IntArg("step", 0) != 0) continue;
    if (event.name == "update") first_update = std::min(first_update, event.ts_us);
    if (event.category == "backward") {
      last_backward_end = std::max(last_backward_end, event.ts_us + event.dur_us);
    }
  }
  EXPECT_LT(first_update, last_backward_end);

  absl::StatusOr<OverlapReport> report = ComputeOverlap(events);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->total.samples, kWorkers * kSteps);
  EXPECT_GT(report->total.compute_us, 0);
  EXPECT_GT(report->total.comm_us, 0);
  ExpectStepTimesConsistent(*report);
  if (const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    const absl::Status written =
        trace.WriteJson(absl::StrCat(outputs, "/pipelined_dpsgd_trace.json"));
    EXPECT_TRUE(written.ok()) << written;
  }
}

}  // namespace
}  // namespace ald
