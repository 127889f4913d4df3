#include "comm/algorithms/adpsgd.h"

#include <algorithm>
#include <array>
#include <deque>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "comm/algorithms/registry.h"
#include "comm/algorithms/counted_collectives.h"
#include "comm/algorithms/worker_buffers.h"
#include "comm/topology/network_graph.h"
#include "core/status.h"

namespace ald {
namespace {

// How long the serving thread blocks on one receive before it looks at the others again: a
// request from another neighbour waits at most this long for its turn.
constexpr absl::Duration kServeSlice = absl::Milliseconds(1);

struct Role {
  bool active = true;
  std::vector<int> partners;
};

// Colour by BFS depth parity from rank 0 (see the header). Every BFS tree edge joins depths d
// and d + 1, so the kept edges connect the graph.
Role RoleIn(const NetworkGraph& graph, int rank) {
  std::vector<int> depth(graph.nodes(), -1);
  std::deque<int> queue = {0};
  depth[0] = 0;
  while (!queue.empty()) {
    const int node = queue.front();
    queue.pop_front();
    for (int next : graph.neighbors(node)) {
      if (depth[next] >= 0) continue;
      depth[next] = depth[node] + 1;
      queue.push_back(next);
    }
  }
  Role role;
  role.active = depth[rank] % 2 == 0;
  for (int neighbor : graph.neighbors(rank)) {
    if (depth[neighbor] % 2 != depth[rank] % 2) role.partners.push_back(neighbor);
  }
  return role;
}

}  // namespace

Adpsgd::Adpsgd(const AlgorithmContext& context, bool active, std::vector<int> partners,
               std::unique_ptr<cpu::WeightedSumCpu> average_kernel)
    : comm_(*context.comm),
      buffers_(context.buffers),
      options_(context.options),
      active_(active),
      partners_(std::move(partners)),
      partner_rng_(context.options.seed, static_cast<uint32_t>(context.comm->rank()), 0,
                   RngStream::kTopology),
      request_(context.buffers.params.size() + 1),
      reply_(context.buffers.params.size()),
      logical_(context.buffers.params.size()),
      average_kernel_(std::move(average_kernel)),
      open_partners_(active ? std::vector<int>() : partners_),
      answer_(context.buffers.params.size()) {}

absl::StatusOr<std::unique_ptr<Adpsgd>> Adpsgd::Create(const AlgorithmContext& context) {
  if (context.comm == nullptr) return absl::InvalidArgumentError("adpsgd: no communicator");
  RETURN_IF_ERROR(CheckWorkerBuffers(context.buffers, "adpsgd"));
  if (context.buffers.params.empty()) {
    return absl::InvalidArgumentError("adpsgd: there are no parameters to average");
  }
  const int workers = context.comm->size();
  std::optional<NetworkGraph> ring;
  if (context.topology == nullptr) {
    ASSIGN_OR_RETURN(ring, RingGraph(workers));
  }
  const NetworkGraph& graph = context.topology != nullptr ? context.topology->graph(0) : *ring;
  if (graph.nodes() != workers) {
    return absl::InvalidArgumentError(absl::StrCat("adpsgd: the graph ", graph.name(), " has ",
                                                   graph.nodes(), " nodes, but there are ",
                                                   workers, " workers"));
  }
  Role role = RoleIn(graph, context.comm->rank());
  ASSIGN_OR_RETURN(std::unique_ptr<cpu::WeightedSumCpu> average_kernel,
                   cpu::WeightedSumCpu::Create(
                       2, static_cast<int64_t>(context.buffers.params.size())));
  return std::unique_ptr<Adpsgd>(
      new Adpsgd(context, role.active, std::move(role.partners), std::move(average_kernel)));
}

Adpsgd::~Adpsgd() { Stop().IgnoreError(); }

absl::Status Adpsgd::Start() {
  if (started_) return absl::FailedPreconditionError("adpsgd: Start() was called twice");
  RETURN_IF_ERROR(StartFromRankZero(comm_, buffers_, options_, stats_));
  started_ = true;
  if (active_) return absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    std::copy(buffers_.params.begin(), buffers_.params.end(), logical_.begin());
  }
  server_ = std::thread([this] { Serve(); });
  return absl::OkStatus();
}

absl::Status Adpsgd::BeginStep(int64_t step, const LocalStep& local) {
  if (!started_ || stopped_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "adpsgd: step ", step, " begins ", stopped_ ? "after Stop()" : "before Start()"));
  }
  ASSIGN_OR_RETURN(config_, ToSgdConfig(local));
  if (active_) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (serving_done_) RETURN_IF_ERROR(serve_status_);
  // Averages served since the last step take effect before this step's forward pass.
  PublishLocked();
  return absl::OkStatus();
}

absl::Status Adpsgd::UpdateAndPost(int bucket) {
  return CheckBucket(buffers_, bucket, "adpsgd");
}

absl::Status Adpsgd::EndStep() {
  if (!started_ || stopped_) {
    return absl::FailedPreconditionError(
        absl::StrCat("adpsgd: EndStep ", stopped_ ? "after Stop()" : "before Start()"));
  }
  return active_ ? ActiveEndStep() : PassiveEndStep();
}

absl::Status Adpsgd::ActiveEndStep() {
  const BucketBuffers whole{buffers_.params, buffers_.grads, buffers_.momentum};
  if (partners_.empty()) {  // a single worker
    const ScopedTraceEvent update = TraceUpdate(0);
    return SgdStepOn(config_, whole);
  }
  const int peer =
      partners_[partner_rng_.Below(static_cast<uint32_t>(partners_.size()))];
  request_[0] = kAverage;
  std::copy(buffers_.params.begin(), buffers_.params.end(), request_.begin() + 1);
  // The reply's receive is posted first, so the reply never waits in an unexpected queue.
  Request reply = comm_.Irecv(peer, kReplyTag, std::span<float>(reply_));
  Request send = comm_.Isend(peer, kRequestTag, std::span<const float>(request_));
  stats_.bytes_sent += static_cast<int64_t>(request_.size() * sizeof(float));
  stats_.messages_sent += 1;
  // The round trip (request out, average back) on a comm lane; the compute thread waits on it.
  LaneTraceEvent exchange(trace_, trace_pid_, "average", "comm",
                          {{"peer", peer}, {"bytes", request_.size() * sizeof(float)},
                           {"kind", "model"}});
  RETURN_IF_ERROR(TimedWait(
      stats_,
      [&] {
        RETURN_IF_ERROR(send.Wait());
        return reply.Wait();
      },
      trace_, trace_pid_));
  exchange.End();
  std::copy(reply_.begin(), reply_.end(), buffers_.params.begin());
  const ScopedTraceEvent update = TraceUpdate(0);
  return SgdStepOn(config_, whole);
}

absl::Status Adpsgd::PassiveEndStep() {
  absl::MutexLock lock(&mu_);
  if (serving_done_) RETURN_IF_ERROR(serve_status_);
  // The gradient (computed at the published, possibly stale x_j) goes onto the logical model,
  // which holds every average served meanwhile.
  const ScopedTraceEvent update = TraceUpdate(0);
  RETURN_IF_ERROR(SgdStepOn(config_, {logical_, buffers_.grads, buffers_.momentum}));
  logical_changed_ = true;
  PublishLocked();
  return absl::OkStatus();
}

void Adpsgd::PublishLocked() {
  if (logical_changed_) {
    std::copy(logical_.begin(), logical_.end(), buffers_.params.begin());
    logical_changed_ = false;
  }
  stats_.bytes_sent += served_bytes_;
  stats_.messages_sent += served_messages_;
  served_bytes_ = 0;
  served_messages_ = 0;
}

absl::Status Adpsgd::Stop() {
  if (stopped_) return stop_status_;
  stopped_ = true;
  if (!started_) return stop_status_ = absl::OkStatus();
  if (active_) {
    // kGoodbye and a model-sized tail of zeros: the passive's receive has one size.
    std::fill(request_.begin(), request_.end(), 0.0f);
    request_[0] = kGoodbye;
    absl::Status first = absl::OkStatus();
    for (int peer : partners_) {
      Request send = comm_.Isend(peer, kRequestTag, std::span<const float>(request_));
      stats_.bytes_sent += static_cast<int64_t>(request_.size() * sizeof(float));
      stats_.messages_sent += 1;
      // Tell every passive even if one is gone, so the others do not wait out their deadline.
      const absl::Status sent = TimedWait(stats_, [&] { return send.Wait(); });
      if (first.ok()) first = sent;
    }
    return stop_status_ = first;
  }
  absl::Status status = absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&serving_done_), comm_.timeout())) {
      abandon_ = true;
      status = absl::DeadlineExceededError(absl::StrCat(
          "adpsgd: rank ", comm_.rank(), " waited ", FormatSeconds(comm_.timeout()),
          " for active neighbour(s) ", absl::StrJoin(open_partners_, ", "),
          " to finish (a goodbye message) and gave up"));
    }
  }
  server_.join();
  absl::MutexLock lock(&mu_);
  PublishLocked();
  if (status.ok()) status = serve_status_;
  return stop_status_ = status;
}

void Adpsgd::Serve() {
  absl::Status status = ServeLoop();
  absl::MutexLock lock(&mu_);
  serve_status_ = status;
  serving_done_ = true;
}

absl::Status Adpsgd::ServeLoop() {
  struct Incoming {
    int peer = 0;
    std::vector<float> message;
    Request request;
    bool open = true;
  };
  // Sized once: the receives point into the messages, which must not move.
  std::vector<Incoming> incoming(partners_.size());
  for (size_t k = 0; k < partners_.size(); ++k) {
    incoming[k].peer = partners_[k];
    incoming[k].message.resize(buffers_.params.size() + 1);
    incoming[k].request =
        comm_.Irecv(incoming[k].peer, kRequestTag, std::span<float>(incoming[k].message));
  }
  size_t open = incoming.size();
  while (open > 0) {
    {
      absl::MutexLock lock(&mu_);
      if (abandon_) return absl::CancelledError("adpsgd: the serving thread was abandoned");
    }
    Incoming* pending = nullptr;
    bool progressed = false;
    for (Incoming& in : incoming) {
      if (!in.open) continue;
      if (!in.request.Test()) {
        if (pending == nullptr) pending = &in;
        continue;
      }
      RETURN_IF_ERROR(in.request.status());
      progressed = true;
      const float kind = in.message[0];
      if (kind == kGoodbye) {
        in.open = false;
        --open;
        absl::MutexLock lock(&mu_);
        std::erase(open_partners_, in.peer);
        continue;
      }
      if (kind != kAverage) {
        return absl::InvalidArgumentError(absl::StrCat(
            "adpsgd: rank ", in.peer, " sent a request of unknown kind ", kind));
      }
      RETURN_IF_ERROR(Answer(in.peer, std::span<const float>(in.message).subspan(1)));
      in.request = comm_.Irecv(in.peer, kRequestTag, std::span<float>(in.message));
    }
    // Sleep only after a pass that found nothing. Wait's deadline merely ends the slice; a
    // request that finished meanwhile (or failed) is handled on the next pass.
    if (!progressed && pending != nullptr) pending->request.Wait(kServeSlice).IgnoreError();
  }
  return absl::OkStatus();
}

absl::Status Adpsgd::Answer(int peer, std::span<const float> request) {
  // The serving thread's whole answer (average, then the reply) on a comm lane: it runs beside
  // this worker's compute.
  LaneTraceEvent serve(trace_, trace_pid_, "serve average", "comm",
                       {{"peer", peer}, {"bytes", answer_.size() * sizeof(float)},
                        {"kind", "model"}});
  {
    absl::MutexLock lock(&mu_);
    // 0.5·a + 0.5·b is (a + b)/2 to the bit (halving is exact), computed once for both sides.
    const std::array<float, 2> halves = {0.5f, 0.5f};
    const std::array<std::span<const float>, 2> models = {request, logical_};
    RETURN_IF_ERROR(average_kernel_->Run(halves, models, answer_));
    std::copy(answer_.begin(), answer_.end(), logical_.begin());
    logical_changed_ = true;
  }
  Request send = comm_.Isend(peer, kReplyTag, std::span<const float>(answer_));
  RETURN_IF_ERROR(send.Wait());
  absl::MutexLock lock(&mu_);
  served_bytes_ += static_cast<int64_t>(answer_.size() * sizeof(float));
  served_messages_ += 1;
  serve.End();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Algorithm>> MakeAdpsgd(const AlgorithmContext& context) {
  ASSIGN_OR_RETURN(std::unique_ptr<Adpsgd> algorithm, Adpsgd::Create(context));
  return std::unique_ptr<Algorithm>(std::move(algorithm));
}

}  // namespace ald
