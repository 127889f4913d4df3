// The overlap report on hand-written traces whose answers are known: interval arithmetic, the
// per-step split by "step" events and by the compute events' step arg, strict parsing, and the
// gnuplot timeline.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/trace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/overlap_report.h"
#include "tools/overlap_timeline.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

// One worker, two steps of 20 ms. Step 0: compute 10 ms (forward 4, backward 5, update 0.5,
// combine 0.5), transfers on two lanes covering 6 ms, of which the step waits 2 ms. Step 1:
// compute 8 ms, transfers 4 ms, all hidden.
void AddTwoSteps(Trace& trace, int pid) {
  trace.Add(pid, kComputeTid, "step", "step", 0, 20000, {{"step", 0}});
  trace.Add(pid, kComputeTid, "conv forward", "forward", 0, 4000, {{"step", 0}});
  trace.Add(pid, kComputeTid, "conv backward", "backward", 4000, 5000, {{"step", 0}});
  trace.Add(pid, kComputeTid, "update", "compute", 9000, 500, {{"bucket", 0}});
  trace.Add(pid, kComputeTid, "wait", "wait", 9500, 2000, {{"bucket", 0}});
  trace.Add(pid, kComputeTid, "combine", "compute", 11500, 500);
  trace.Add(pid, kCommTid, "send", "comm", 5500, 6000, {{"peer", 1}, {"bytes", 4096}});
  trace.Add(pid, kCommTid + 1, "recv", "comm", 6000, 5500, {{"peer", 1}, {"bytes", 4096}});

  trace.Add(pid, kComputeTid, "step", "step", 20000, 20000, {{"step", 1}});
  trace.Add(pid, kComputeTid, "conv forward", "forward", 20000, 3000, {{"step", 1}});
  trace.Add(pid, kComputeTid, "conv backward", "backward", 23000, 5000, {{"step", 1}});
  trace.Add(pid, kCommTid, "send", "comm", 24000, 4000, {{"peer", 1}});
  trace.Add(pid, kComputeTid, "wait", "wait", 28000, 0);
}

TEST(IntervalTest, UnionSubtractAndCover) {
  const std::vector<Interval> merged = UnionOf({{5, 8}, {0, 2}, {1, 3}, {8, 9}, {4, 4}});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].begin, 0);
  EXPECT_EQ(merged[0].end, 3);
  EXPECT_EQ(merged[1].begin, 5);
  EXPECT_EQ(merged[1].end, 9);

  const std::vector<Interval> rest = Subtract({{0, 10}, {20, 30}}, {{2, 4}, {6, 22}, {29, 40}});
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].begin, 0);
  EXPECT_EQ(rest[0].end, 2);
  EXPECT_EQ(rest[1].begin, 4);
  EXPECT_EQ(rest[1].end, 6);
  EXPECT_EQ(rest[2].begin, 22);
  EXPECT_EQ(rest[2].end, 29);

  EXPECT_EQ(CoveredMicros(rest, {1, 25}), 1 + 2 + 3);
  EXPECT_EQ(CoveredMicros(rest, {100, 200}), 0);
}

TEST(OverlapTest, HiddenFractionAndPerStepSplit) {
  Trace trace;
  AddTwoSteps(trace, 0);
  absl::StatusOr<OverlapReport> report = ComputeOverlap(trace.Events());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->step_source, "step events");
  ASSERT_EQ(report->steps.size(), 2u);

  const OverlapTotals& first = report->steps[0].second;
  EXPECT_EQ(report->steps[0].first, 0);
  EXPECT_EQ(first.wall_us, 20000);
  EXPECT_EQ(first.compute_us, 10000);
  EXPECT_EQ(first.comm_us, 6000);
  EXPECT_EQ(first.exposed_us, 2000);
  EXPECT_NEAR(first.hidden_fraction(), 2.0 / 3.0, 1e-12);
  // Transfers run 5.5-11.5 ms, compute until 9.5 ms and again at 11.5: 4 ms of compute under
  // them, two thirds of the shorter (comm, 6 ms).
  EXPECT_EQ(first.overlap_us, 4000);
  EXPECT_NEAR(first.overlap_fraction(), 4.0 / 6.0, 1e-12);

  const OverlapTotals& second = report->steps[1].second;
  EXPECT_EQ(second.compute_us, 8000);
  EXPECT_EQ(second.comm_us, 4000);
  EXPECT_EQ(second.exposed_us, 0);
  EXPECT_DOUBLE_EQ(second.hidden_fraction(), 1.0);
  EXPECT_EQ(second.overlap_us, 4000);
  EXPECT_DOUBLE_EQ(second.overlap_fraction(), 1.0);

  EXPECT_EQ(report->total.samples, 2);
  EXPECT_EQ(report->total.comm_us, 10000);
  EXPECT_NEAR(report->total.hidden_fraction(), 0.8, 1e-12);

  const std::string table = FormatOverlapReport(*report);
  EXPECT_THAT(table, HasSubstr("   66.7%"));
  EXPECT_THAT(table, HasSubstr("average"));
  EXPECT_THAT(table, HasSubstr("   80.0%"));
}

TEST(OverlapTest, LossMessagesAreNotModelTraffic) {
  Trace trace;
  AddTwoSteps(trace, 0);
  // AL-DSGD's loss and degree: posted early, seen done late; not communication time.
  trace.Add(0, kCommTid + 2, "send", "comm", 1000, 18000,
            {{"peer", 1}, {"bytes", 8}, {"kind", "scalars"}});
  trace.Add(0, kCommTid + 3, "send", "comm", 30000, 2000,
            {{"peer", 1}, {"bytes", 4096}, {"kind", "model"}});
  absl::StatusOr<OverlapReport> report = ComputeOverlap(trace.Events());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->steps.size(), 2u);
  EXPECT_EQ(report->steps[0].second.comm_us, 6000);
  EXPECT_EQ(report->steps[1].second.comm_us, 6000);  // the model send counts
}

// MPI calls a send done once the kernel has its data; the data is in flight until the peer's
// receive completes. In a merged trace the send ends there: the k-th send of a route (sender,
// receiver, kind, bucket) with the k-th receive of it; sends of another bucket, or without a
// matching receive, keep their own end.
TEST(OverlapTest, ASendLastsUntilThePeerReceivedIt) {
  Trace trace;
  for (int pid : {0, 1}) trace.Add(pid, kComputeTid, "step", "step", 0, 100000, {{"step", 0}});
  trace.Add(0, kComputeTid, "conv backward", "backward", 0, 100000, {{"step", 0}});
  auto transfer = [&](int pid, const char* direction, int peer, int bucket, int64_t begin,
                      int64_t duration) {
    trace.Add(pid, kCommTid + bucket, direction, "comm", begin, duration,
              {{"bucket", bucket}, {"peer", peer}, {"bytes", 4096}, {"kind", "model"}});
  };
  transfer(0, "send", 1, 0, 0, 1000);       // first message of route (0, 1, model, 0)
  transfer(0, "send", 1, 0, 30000, 1000);   // second: arrives at 45 ms
  transfer(0, "send", 1, 1, 60000, 1000);   // bucket 1: never received in this trace
  transfer(1, "recv", 0, 0, 35000, 10000);  // posted late, matched with the second send
  transfer(1, "recv", 0, 0, 0, 20000);      // matched with the first send (earlier start)

  const std::vector<TraceEvent> events = trace.Events();
  const std::vector<int64_t> ends = DeliveredEnds(events);
  std::map<std::pair<int64_t, int>, int64_t> send_end;  // (start, bucket) -> end
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].name != "send") continue;
    send_end[{events[i].ts_us, static_cast<int>(events[i].IntArg("bucket", -1))}] = ends[i];
  }
  EXPECT_EQ(send_end[std::make_pair(int64_t{0}, 0)], 20000);
  EXPECT_EQ(send_end[std::make_pair(int64_t{30000}, 0)], 45000);
  EXPECT_EQ(send_end[std::make_pair(int64_t{60000}, 1)], 61000);

  absl::StatusOr<OverlapReport> report = ComputeOverlap(events);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->workers.size(), 2u);
  EXPECT_EQ(report->workers[0].second.comm_us, 20000 + 15000 + 1000);
  EXPECT_EQ(report->workers[0].second.overlap_us, 36000);  // it computes throughout
}

TEST(OverlapTest, WorkersAreSeparateAndAveraged) {
  Trace trace;
  AddTwoSteps(trace, 0);
  AddTwoSteps(trace, 3);
  trace.Add(3, kComputeTid, "wait", "wait", 30000, 4000);  // worker 3 waits 4 ms more in step 1
  absl::StatusOr<OverlapReport> report = ComputeOverlap(trace.Events());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->workers.size(), 2u);
  EXPECT_EQ(report->workers[1].first, 3);
  EXPECT_EQ(report->workers[0].second.exposed_us, 2000);
  EXPECT_EQ(report->workers[1].second.exposed_us, 6000);
  ASSERT_EQ(report->steps.size(), 2u);
  EXPECT_EQ(report->steps[1].second.samples, 2);
  EXPECT_EQ(report->steps[1].second.exposed_us, 4000);
  EXPECT_EQ(report->worker_steps.size(), 4u);
}

TEST(OverlapTest, StepsFromTheComputeEventsStepArg) {
  Trace trace;
  trace.Add(0, kComputeTid, "fc forward", "forward", 0, 1000, {{"step", 0}});
  trace.Add(0, kComputeTid, "fc backward", "backward", 1000, 2000, {{"step", 0}});
  trace.Add(0, kCommTid, "send", "comm", 2000, 3000);
  trace.Add(0, kComputeTid, "wait", "wait", 3000, 1000);
  trace.Add(0, kCommTid, "send", "comm", 5000, 2000);  // crosses into step 1
  trace.Add(0, kComputeTid, "fc forward", "forward", 6000, 1000, {{"step", 1}});
  trace.Add(0, kComputeTid, "fc backward", "backward", 7000, 1000, {{"step", 1}});
  absl::StatusOr<OverlapReport> report = ComputeOverlap(trace.Events());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->step_source, "the step arg of compute events");
  ASSERT_EQ(report->worker_steps.size(), 2u);
  const StepTimes& first = report->worker_steps[0];
  EXPECT_EQ(first.window.begin, 0);
  EXPECT_EQ(first.window.end, 6000);
  EXPECT_EQ(first.compute_us, 3000);
  EXPECT_EQ(first.comm_us, 4000);
  EXPECT_EQ(first.exposed_us, 1000);
  const StepTimes& second = report->worker_steps[1];
  EXPECT_EQ(second.window.end, 8000);  // the worker's last event
  EXPECT_EQ(second.comm_us, 1000);
  EXPECT_EQ(second.compute_us, 2000);
}

TEST(OverlapTest, NoStepsIsAnError) {
  Trace trace;
  trace.Add(0, kCommTid, "send", "comm", 0, 10);
  const absl::StatusOr<OverlapReport> report = ComputeOverlap(trace.Events());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("no steps"));
}

TEST(ParseTraceTest, ReadsWhatTraceWrites) {
  Trace trace;
  AddTwoSteps(trace, 2);
  absl::StatusOr<std::vector<TraceEvent>> events = ParseTrace(trace.ToJson());
  ASSERT_TRUE(events.ok()) << events.status();
  const std::vector<TraceEvent> expected = trace.Events();
  ASSERT_EQ(events->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*events)[i].name, expected[i].name);
    EXPECT_EQ((*events)[i].category, expected[i].category);
    EXPECT_EQ((*events)[i].pid, 2);
    EXPECT_EQ((*events)[i].tid, expected[i].tid);
    EXPECT_EQ((*events)[i].ts_us, expected[i].ts_us);
    EXPECT_EQ((*events)[i].dur_us, expected[i].dur_us);
    EXPECT_EQ((*events)[i].args, expected[i].args);
  }
}

TEST(ParseTraceTest, RejectsBadInputClearly) {
  const std::pair<const char*, const char*> cases[] = {
      {"{\"traceEvents\": [", "malformed JSON"},
      {"{\"traceEvents\": [{\"ph\":\"X\",\"name\":\"a\",\"pid\":0,\"tid\":0,\"ts\":1.5,"
       "\"dur\":1}]}",
       "malformed JSON"},
      {"{\"traceEvents\": []}", "no complete"},
      {"{\"traceEvents\": [{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":0,\"tid\":0}]}",
       "no complete"},
      {"{\"events\": []}", "expected {\"traceEvents\""},
      {"{\"traceEvents\": [{\"ph\":\"X\",\"name\":\"a\",\"pid\":0,\"tid\":0,\"dur\":1}]}",
       "trace event 0 (at byte 17): no \"ts\""},
      {"{\"traceEvents\": [{\"ph\":\"X\",\"name\":\"a\",\"pid\":0,\"tid\":0,\"ts\":\"1\","
       "\"dur\":1}]}",
       "\"ts\" is a string, expected an integer"},
      {"[{\"ph\":\"X\",\"name\":\"a\",\"pid\":0,\"tid\":0,\"ts\":0,\"dur\":-1}]",
       "negative \"dur\""},
  };
  for (const auto& [text, message] : cases) {
    const absl::StatusOr<std::vector<TraceEvent>> events = ParseTrace(text);
    ASSERT_FALSE(events.ok()) << text;
    EXPECT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(events.status().message()), HasSubstr(message)) << text;
  }
}

TEST(ParseTraceTest, MissingFileNamesThePath) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/no_such_trace.json");
  const absl::StatusOr<std::vector<TraceEvent>> events = ReadTrace(path);
  ASSERT_FALSE(events.ok());
  EXPECT_THAT(std::string(events.status().message()), HasSubstr(path));
}

TEST(TimelineTest, ScriptHasARowPerKindOfWorkAndTheSteps) {
  Trace trace;
  AddTwoSteps(trace, 0);
  AddTwoSteps(trace, 1);
  const std::vector<TraceEvent> events = trace.Events();
  absl::StatusOr<OverlapReport> report = ComputeOverlap(events);
  ASSERT_TRUE(report.ok()) << report.status();
  TimelineOptions options;
  options.png_path = "it's.png";
  options.first_step = 0;
  options.steps = 1;
  absl::StatusOr<std::string> script = TimelineScript(events, *report, options);
  ASSERT_TRUE(script.ok()) << script.status();
  EXPECT_THAT(*script, HasSubstr("set output 'it''s.png'"));
  // Rows: w0's compute, sends, receives, a gap, then w1's.
  EXPECT_THAT(*script, HasSubstr("'w0 sends' 1"));
  EXPECT_THAT(*script, HasSubstr("'w1 receives' 6"));
  EXPECT_THAT(*script, HasSubstr("set label 'w1 step 0'"));
  EXPECT_THAT(*script, HasSubstr("set xrange [0:20]"));  // step 0 only: 20 ms
  // The wait bar of worker 1 (row 4): 9.5 .. 11.5 ms.
  EXPECT_THAT(*script, HasSubstr("10.500 4 9.500 11.500 3.65 4.35"));

  options.first_step = 7;
  EXPECT_FALSE(TimelineScript(events, *report, options).ok());
}

TEST(TimelineTest, GnuplotDrawsThePng) {
  if (::access("/usr/bin/gnuplot", X_OK) != 0) GTEST_SKIP() << "no gnuplot";
  Trace trace;
  AddTwoSteps(trace, 0);
  const std::vector<TraceEvent> events = trace.Events();
  absl::StatusOr<OverlapReport> report = ComputeOverlap(events);
  ASSERT_TRUE(report.ok()) << report.status();
  TimelineOptions options;
  options.png_path = absl::StrCat(::testing::TempDir(), "/timeline.png");
  options.steps = 2;
  ASSERT_TRUE(DrawTimeline(events, *report, options).ok());
  struct stat info;
  ASSERT_EQ(::stat(options.png_path.c_str(), &info), 0);
  EXPECT_GT(info.st_size, 1000);
}

}  // namespace
}  // namespace ald
