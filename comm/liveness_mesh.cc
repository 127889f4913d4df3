#include "comm/liveness_mesh.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace ald {
namespace {

constexpr uint32_t kHelloMagic = 0x4c444c41;  // "ALDL"
constexpr char kHeartbeat = 'H';
constexpr char kGoodbye = 'B';
constexpr char kLeaving = 'L';  // + int32 culprit + uint32 length + text
constexpr size_t kLeavingHeader = 1 + 4 + 4;
// How long a closing rank waits for its peers to close their ends (a hung peer never does).
constexpr absl::Duration kClosingPatience = absl::Seconds(1);
// One address's try while connecting: a wrong one (another namespace's loopback) fails fast.
constexpr absl::Duration kAttemptLimit = absl::Seconds(2);

struct Hello {
  uint32_t magic = kHelloMagic;
  int32_t rank = 0;
  uint64_t job_key = 0;
};

int MillisecondsUntil(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

// Waits for `events` on `fd` until `deadline`; false on timeout.
bool WaitFor(int fd, short events, absl::Time deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    const int ready = poll(&p, 1, MillisecondsUntil(deadline));
    if (ready > 0) return true;
    if (ready == 0 || errno != EINTR) return false;
  }
}

absl::Status SendAll(int fd, const void* data, size_t size, absl::Time deadline) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t sent = send(fd, bytes, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      bytes += sent;
      size -= static_cast<size_t>(sent);
    } else if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return absl::DeadlineExceededError("send timed out");
    } else {
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::Status ReceiveAll(int fd, void* data, size_t size, absl::Time deadline) {
  char* bytes = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t got = recv(fd, bytes, size, MSG_DONTWAIT);
    if (got > 0) {
      bytes += got;
      size -= static_cast<size_t>(got);
    } else if (got == 0) {
      return absl::UnavailableError("the connection closed");
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!WaitFor(fd, POLLIN, deadline)) return absl::DeadlineExceededError("no reply in time");
    } else {
      return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

// This host's IPv4 addresses on interfaces that are up, non-loopback first.
void FillAddresses(LivenessEndpoint& endpoint) {
  std::vector<uint32_t> outside, loopback;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      if (!(i->ifa_flags & IFF_UP)) continue;
      const uint32_t address = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr;
      ((i->ifa_flags & IFF_LOOPBACK) ? loopback : outside).push_back(address);
    }
    freeifaddrs(list);
  }
  if (loopback.empty()) loopback.push_back(htonl(INADDR_LOOPBACK));
  outside.insert(outside.end(), loopback.begin(), loopback.end());
  endpoint.address_count =
      static_cast<uint8_t>(std::min<size_t>(outside.size(), LivenessEndpoint::kMaxAddresses));
  std::copy_n(outside.begin(), endpoint.address_count, endpoint.addresses);
}

std::string FormatAddress(uint32_t address, uint16_t port) {
  char text[INET_ADDRSTRLEN] = {};
  in_addr a{address};
  inet_ntop(AF_INET, &a, text, sizeof(text));
  return absl::StrCat(text, ":", port);
}

std::string Int32Bytes(int32_t value) { return std::string(reinterpret_cast<char*>(&value), 4); }

}  // namespace

LivenessMesh::LivenessMesh(int rank, int size, absl::Duration silence_limit, int listen_fd)
    : rank_(rank),
      size_(size),
      silence_limit_(silence_limit),
      beat_interval_(
          std::clamp(silence_limit / 4, absl::Milliseconds(10), absl::Milliseconds(100))),
      listen_fd_(listen_fd),
      endpoints_(size),
      peers_(size) {}

absl::StatusOr<std::unique_ptr<LivenessMesh>> LivenessMesh::Listen(int rank, int size,
                                                                    absl::Duration silence_limit) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("liveness socket: ", std::strerror(errno)));
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t length = sizeof(any);
  if (bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0 || listen(fd, SOMAXCONN) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&any), &length) != 0) {
    const int error = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("liveness listen: ", std::strerror(error)));
  }
  std::unique_ptr<LivenessMesh> mesh(new LivenessMesh(rank, size, silence_limit, fd));
  if (pipe2(mesh->wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("liveness pipe: ", std::strerror(errno)));
  }
  LivenessEndpoint& me = mesh->endpoints_[rank];
  std::random_device entropy;
  me.job_key = (uint64_t{entropy()} << 32) ^ entropy() ^ static_cast<uint64_t>(getpid());
  gethostname(me.host, sizeof(me.host) - 1);
  me.pid = static_cast<int32_t>(getpid());
  me.port = ntohs(any.sin_port);
  FillAddresses(me);
  return mesh;
}

LivenessMesh::~LivenessMesh() {
  Close();
  for (int peer = 0; peer < size_; ++peer) ClosePeer(peer);
  for (int fd : {listen_fd_, wake_fds_[0], wake_fds_[1]}) {
    if (fd >= 0) close(fd);
  }
}

std::string LivenessMesh::Describe(int rank) const {
  const LivenessEndpoint& e = endpoints_[rank];
  if (e.pid == 0) return absl::StrCat("rank ", rank);
  return absl::StrFormat("rank %d (host %s, pid %d)", rank, e.host, e.pid);
}

absl::Status LivenessMesh::Connect(const std::vector<LivenessEndpoint>& endpoints,
                                   absl::Duration timeout) {
  if (static_cast<int>(endpoints.size()) != size_) {
    return absl::InternalError("liveness: one endpoint per rank expected");
  }
  endpoints_ = endpoints;
  const absl::Time deadline = absl::Now() + timeout;
  // Lower ranks first, then the higher ones' connections: every wait is on a lower rank, which
  // is already accepting (or connecting downwards itself), so there is no cycle.
  for (int peer = 0; peer < rank_; ++peer) {
    if (absl::Status connected = ConnectTo(peer, deadline); !connected.ok()) return connected;
  }
  if (absl::Status accepted = AcceptFrom(size_ - 1 - rank_, deadline); !accepted.ok()) {
    return accepted;
  }
  const absl::Time now = absl::Now();
  for (Peer& peer : peers_) peer.last_heard = now;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

absl::Status LivenessMesh::ConnectTo(int peer, absl::Time deadline) {
  const LivenessEndpoint& target = endpoints_[peer];
  const Hello mine{kHelloMagic, rank_, endpoints_[0].job_key};
  std::vector<std::string> tried;
  while (true) {
    for (int i = 0; i < target.address_count; ++i) {
      const std::string where = FormatAddress(target.addresses[i], target.port);
      const absl::Time attempt_deadline = std::min(deadline, absl::Now() + kAttemptLimit);
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        return absl::InternalError(absl::StrCat("liveness socket: ", std::strerror(errno)));
      }
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = target.addresses[i];
      address.sin_port = htons(target.port);
      absl::Status status = absl::OkStatus();
      if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        int error = errno;
        if (error == EINPROGRESS) {
          error = WaitFor(fd, POLLOUT, attempt_deadline) ? 0 : ETIMEDOUT;
          socklen_t length = sizeof(error);
          if (error == 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        }
        if (error != 0) status = absl::UnavailableError(std::strerror(error));
      }
      Hello theirs;
      if (status.ok()) status = SendAll(fd, &mine, sizeof(mine), attempt_deadline);
      if (status.ok()) status = ReceiveAll(fd, &theirs, sizeof(theirs), attempt_deadline);
      if (status.ok() && (theirs.magic != kHelloMagic || theirs.rank != peer ||
                          theirs.job_key != mine.job_key)) {
        status = absl::UnavailableError("another process answered");
      }
      if (status.ok()) {
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        peers_[peer].fd = fd;
        return absl::OkStatus();
      }
      close(fd);
      tried.push_back(absl::StrCat(where, ": ", status.message()));
      if (absl::Now() >= deadline) {
        return absl::UnavailableError(absl::StrCat("cannot reach ", Describe(peer),
                                                   " for liveness (", absl::StrJoin(tried, "; "),
                                                   ")"));
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::Status LivenessMesh::AcceptFrom(int count, absl::Time deadline) {
  const Hello mine{kHelloMagic, rank_, endpoints_[0].job_key};
  while (count > 0) {
    if (!WaitFor(listen_fd_, POLLIN, deadline)) {
      std::vector<std::string> missing;
      for (int peer = rank_ + 1; peer < size_; ++peer) {
        if (peers_[peer].fd < 0) missing.push_back(Describe(peer));
      }
      return absl::UnavailableError(absl::StrCat("no liveness connection from ",
                                                 absl::StrJoin(missing, ", "), " in time"));
    }
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    const absl::Time attempt_deadline = std::min(deadline, absl::Now() + kAttemptLimit);
    Hello theirs;
    const bool valid = ReceiveAll(fd, &theirs, sizeof(theirs), attempt_deadline).ok() &&
                       theirs.magic == kHelloMagic && theirs.job_key == mine.job_key &&
                       theirs.rank > rank_ && theirs.rank < size_ && peers_[theirs.rank].fd < 0;
    if (!valid || !SendAll(fd, &mine, sizeof(mine), attempt_deadline).ok()) {
      close(fd);  // a stranger (another job, a port scan): not ours to judge
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    peers_[theirs.rank].fd = fd;
    --count;
  }
  return absl::OkStatus();
}

void LivenessMesh::Loop() {
  absl::Time next_beat = absl::Now();
  std::vector<pollfd> polled;
  std::vector<int> who;
  while (true) {
    Ending ending;
    std::string message;
    {
      absl::MutexLock lock(&mu_);
      ending = ending_;
      message = ending_message_;
    }
    switch (ending) {
      case Ending::kNone: break;
      case Ending::kGoodbye:
      case Ending::kLeave: SayAndClose(message); return;
      case Ending::kKill:
        for (int peer = 0; peer < size_; ++peer) ClosePeer(peer);
        return;
      case Ending::kSilent: return;  // the sockets stay open, nothing more is sent or read
    }
    polled.assign(1, pollfd{wake_fds_[0], POLLIN, 0});
    who.assign(1, -1);
    for (int peer = 0; peer < size_; ++peer) {
      if (peers_[peer].fd < 0) continue;
      polled.push_back(pollfd{peers_[peer].fd, POLLIN, 0});
      who.push_back(peer);
    }
    const int ready = poll(polled.data(), polled.size(), MillisecondsUntil(next_beat));
    if (ready > 0) {
      for (size_t i = 1; i < polled.size(); ++i) {
        if (polled[i].revents != 0) Receive(who[i]);
      }
      if (polled[0].revents != 0) {
        char drained[64];
        while (read(wake_fds_[0], drained, sizeof(drained)) > 0) {
        }
      }
    }
    const absl::Time now = absl::Now();
    if (now >= next_beat) {
      Beat();
      next_beat = now + beat_interval_;
    }
    for (int peer = 0; peer < size_; ++peer) {
      if (peers_[peer].fd >= 0 && now - peers_[peer].last_heard > silence_limit_) {
        Record(peer, absl::StrCat(Describe(peer), " sent nothing for ",
                                  absl::FormatDuration(now - peers_[peer].last_heard),
                                  " (hung, or its host is unreachable)"));
        ClosePeer(peer);
      }
    }
  }
}

bool LivenessMesh::Receive(int peer) {
  Peer& p = peers_[peer];
  char buffer[4096];
  const ssize_t got = recv(p.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (got <= 0) {
    if (!p.said_goodbye) {
      Record(peer, absl::StrCat(Describe(peer), " died: its liveness connection ",
                                got == 0 ? "closed" : std::strerror(errno)));
    }
    ClosePeer(peer);
    return false;
  }
  p.last_heard = absl::Now();
  p.inbox.append(buffer, static_cast<size_t>(got));
  size_t used = 0;
  while (used < p.inbox.size()) {
    const char type = p.inbox[used];
    if (type == kHeartbeat) {
      ++used;
    } else if (type == kGoodbye) {
      p.said_goodbye = true;
      ClosePeer(peer);  // its end is closing too: close ours, so that it need not wait
      return false;
    } else if (type == kLeaving) {
      if (p.inbox.size() - used < kLeavingHeader) break;
      int32_t culprit;
      uint32_t length;
      std::memcpy(&culprit, p.inbox.data() + used + 1, 4);
      std::memcpy(&length, p.inbox.data() + used + 5, 4);
      if (p.inbox.size() - used - kLeavingHeader < length) break;
      std::string text = p.inbox.substr(used + kLeavingHeader, length);
      if (culprit < 0 || culprit >= size_) culprit = peer;
      if (culprit != peer) absl::StrAppend(&text, " (as rank ", peer, " reported)");
      Record(culprit, std::move(text));
      p.said_goodbye = true;
      ClosePeer(peer);
      return false;
    } else {
      Record(peer, absl::StrCat(Describe(peer), " sent a malformed liveness message"));
      ClosePeer(peer);
      return false;
    }
  }
  p.inbox.erase(0, used);
  return true;
}

void LivenessMesh::Beat() {
  for (Peer& peer : peers_) {
    // A full buffer means the peer reads nothing: its silence shows on its side, not here.
    if (peer.fd >= 0) send(peer.fd, &kHeartbeat, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
}

void LivenessMesh::Record(int rank, std::string what) {
  absl::MutexLock lock(&mu_);
  if (!failure_.has_value()) failure_ = PeerFailure{rank, std::move(what)};
}

void LivenessMesh::ClosePeer(int peer) {
  Peer& p = peers_[peer];
  if (p.fd >= 0) close(p.fd);
  p.fd = -1;
}

void LivenessMesh::SayAndClose(const std::string& message) {
  const absl::Time deadline = absl::Now() + kClosingPatience;
  for (Peer& peer : peers_) {
    if (peer.fd < 0) continue;
    (void)SendAll(peer.fd, message.data(), message.size(), deadline);
    shutdown(peer.fd, SHUT_WR);
  }
  // Closing with unread bytes would reset the connection, and a reset may overtake the message;
  // the peers close their ends once they read it, so read until each EOF.
  while (absl::Now() < deadline) {
    std::vector<pollfd> polled;
    std::vector<int> who;
    for (int peer = 0; peer < size_; ++peer) {
      if (peers_[peer].fd < 0) continue;
      polled.push_back(pollfd{peers_[peer].fd, POLLIN, 0});
      who.push_back(peer);
    }
    if (polled.empty()) break;
    if (poll(polled.data(), polled.size(), MillisecondsUntil(deadline)) <= 0) break;
    for (size_t i = 0; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      char discard[4096];
      const ssize_t got = recv(polled[i].fd, discard, sizeof(discard), MSG_DONTWAIT);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) ClosePeer(who[i]);
    }
  }
  for (int peer = 0; peer < size_; ++peer) ClosePeer(peer);
}

void LivenessMesh::End(Ending ending, std::string message) {
  {
    absl::MutexLock lock(&mu_);
    if (ending_ != Ending::kNone) return;
    ending_ = ending;
    ending_message_ = std::move(message);
  }
  if (!thread_.joinable()) return;  // never connected: nothing to tell anyone
  (void)!write(wake_fds_[1], "x", 1);
  thread_.join();
}

std::optional<PeerFailure> LivenessMesh::failure() const {
  absl::MutexLock lock(&mu_);
  return failure_;
}

std::optional<PeerFailure> LivenessMesh::AwaitFailure(absl::Duration patience) const {
  mu_.LockWhenWithTimeout(absl::Condition(
                              +[](const std::optional<PeerFailure>* f) { return f->has_value(); },
                              &failure_),
                          patience);
  std::optional<PeerFailure> failure = failure_;
  mu_.Unlock();
  return failure;
}

void LivenessMesh::Leave(const absl::Status& why) {
  std::optional<PeerFailure> known = failure();
  const int32_t culprit = known.has_value() ? known->rank : rank_;
  const std::string text = known.has_value()
                               ? known->what
                               : absl::StrCat(Describe(rank_), " failed: ", why.message());
  const uint32_t length = static_cast<uint32_t>(text.size());
  std::string message(1, kLeaving);
  message += Int32Bytes(culprit);
  message.append(reinterpret_cast<const char*>(&length), 4);
  message += text;
  End(Ending::kLeave, std::move(message));
}

void LivenessMesh::Close() { End(Ending::kGoodbye, std::string(1, kGoodbye)); }

void LivenessMesh::KillForTest() { End(Ending::kKill, ""); }

void LivenessMesh::FallSilentForTest() { End(Ending::kSilent, ""); }

}  // namespace ald
