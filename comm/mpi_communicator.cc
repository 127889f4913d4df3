#include "comm/mpi_communicator.h"

#include <mpi.h>

#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"


#include "comm/mpi_runtime.h"

namespace ald {
namespace {

using mpi_internal::CheckCount;
using mpi_internal::MpiErrorText;
using mpi_internal::MpiOperation;
using mpi_internal::MpiRequestState;
using mpi_internal::MpiRuntime;
using mpi_internal::RunCollective;

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MpiRuntime* runtime, MPI_Comm comm, CommOptions options)
      : Communicator(options), runtime_(runtime), comm_(comm) {
    rank_ = runtime->world_rank();
    size_ = runtime->world_size();
  }
  ~MpiCommunicator() override {
    // The duplicate of MPI_COMM_WORLD is freed (Open MPI keeps it otherwise), but not after a
    // failure, when the progress thread may be stuck inside MPI.
    if (!runtime_->broken()) {
      (void)runtime_->Call([comm = comm_]() mutable {
        MPI_Comm_free(&comm);
        return absl::OkStatus();
      });
    }
    MpiRuntime::Release();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

 protected:
  Request IsendBytes(int peer, int tag, std::span<const std::byte> data, int priority) override {
    auto op = MakeOperation(DescribeTransfer("send to", peer, tag, data.size()), data.size());
    if (absl::Status valid = CheckCount(data.size(), op->description); !valid.ok()) {
      return Request::Finished(valid);
    }
    runtime_->StartSend(
        op,
        [data, peer, tag, comm = comm_](MPI_Request* request) {
          return MPI_Isend(data.data(), static_cast<int>(data.size()), MPI_BYTE, peer, tag, comm,
                           request);
        },
        peer, data.size(), priority);
    return MakeRequest(std::make_unique<MpiRequestState>(runtime_, std::move(op)));
  }

  Request IrecvBytes(int peer, int tag, std::span<std::byte> data) override {
    auto op = MakeOperation(DescribeTransfer("recv from", peer, tag, data.size()), data.size());
    op->is_receive = true;
    if (absl::Status valid = CheckCount(data.size(), op->description); !valid.ok()) {
      return Request::Finished(valid);
    }
    runtime_->Start(op, [data, peer, tag, comm = comm_](MPI_Request* request) {
      return MPI_Irecv(data.data(), static_cast<int>(data.size()), MPI_BYTE, peer, tag, comm,
                       request);
    });
    return MakeRequest(std::make_unique<MpiRequestState>(runtime_, std::move(op)));
  }

  absl::Status AllReduceFloats(std::span<float> data, ReduceOp op) override {
    const std::string description = absl::StrFormat("all-reduce of %d floats", data.size());
    RETURN_IF_ERROR(CheckCount(data.size_bytes(), description));
    if (options().reproducible_sums) {
      RETURN_IF_ERROR(SumInRankOrder(data, description));
    } else {
      RETURN_IF_ERROR(Collective(description, [data, comm = comm_](MPI_Request* request) {
        return MPI_Iallreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()),
                              MPI_FLOAT, MPI_SUM, comm, request);
      }));
    }
    if (op == ReduceOp::kAverage) {
      const float n = static_cast<float>(size_);
      for (float& value : data) value /= n;
    }
    return absl::OkStatus();
  }

  absl::Status BroadcastBytes(std::span<std::byte> data, int root) override {
    const std::string description =
        absl::StrFormat("broadcast of %d bytes from rank %d", data.size(), root);
    RETURN_IF_ERROR(CheckCount(data.size(), description));
    return Collective(description, [data, root, comm = comm_](MPI_Request* request) {
      return MPI_Ibcast(data.data(), static_cast<int>(data.size()), MPI_BYTE, root, comm, request);
    });
  }

  absl::Status AllGatherBytes(std::span<const std::byte> mine,
                              std::span<std::byte> all) override {
    const std::string description = absl::StrFormat("all-gather of %d bytes", mine.size());
    RETURN_IF_ERROR(CheckCount(all.size(), description));
    return Collective(description, [mine, all, comm = comm_](MPI_Request* request) {
      return MPI_Iallgather(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(),
                            static_cast<int>(mine.size()), MPI_BYTE, comm, request);
    });
  }

  absl::Status BarrierAll() override {
    return Collective("barrier", [comm = comm_](MPI_Request* request) {
      return MPI_Ibarrier(comm, request);
    });
  }

 private:
  std::shared_ptr<MpiOperation> MakeOperation(std::string description, size_t bytes) {
    auto op = std::make_shared<MpiOperation>();
    op->description = std::move(description);
    op->expected_bytes = bytes;
    return op;
  }
  // The sum of every rank's `data`, added in rank order as the in-process communicator does
  // (MPI_Allreduce may associate it differently): all-gather a chunk, add it up, next chunk.
  absl::Status SumInRankOrder(std::span<float> data, const std::string& description) {
    constexpr size_t kChunkFloats = size_t{1} << 18;  // 1 MiB from each rank at a time
    const size_t chunk = std::min(data.size(), kChunkFloats);
    std::vector<float> gathered(chunk * size_);
    for (size_t begin = 0; begin < data.size(); begin += chunk) {
      const size_t count = std::min(chunk, data.size() - begin);
      float* mine = data.data() + begin;
      RETURN_IF_ERROR(Collective(description, [&, mine, count](MPI_Request* request) {
        return MPI_Iallgather(mine, static_cast<int>(count), MPI_FLOAT, gathered.data(),
                              static_cast<int>(count), MPI_FLOAT, comm_, request);
      }));
      for (size_t i = 0; i < count; ++i) mine[i] = gathered[i];
      for (int rank = 1; rank < size_; ++rank) {
        const float* term = gathered.data() + rank * count;
        for (size_t i = 0; i < count; ++i) mine[i] += term[i];
      }
    }
    return absl::OkStatus();
  }

  absl::Status Collective(std::string description, std::function<int(MPI_Request*)> start) {
    return RunCollective(runtime_, std::move(description), timeout(), std::move(start));
  }

  MpiRuntime* runtime_;
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Communicator>> CreateMpiCommunicator(MpiOptions options) {
  ASSIGN_OR_RETURN(MpiRuntime * mpi, MpiRuntime::Acquire(options));
  MPI_Comm comm = MPI_COMM_NULL;
  absl::Status set_up = [&] {
    RETURN_IF_ERROR(mpi->ConnectLiveness(options.comm.timeout));
    RETURN_IF_ERROR(RunCollective(mpi, "duplicating MPI_COMM_WORLD", options.comm.timeout,
                                  [&comm](MPI_Request* request) {
                                    return MPI_Comm_idup(MPI_COMM_WORLD, &comm, request);
                                  }));
    return mpi->Call([comm] {
      const int code = MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
      if (code == MPI_SUCCESS) return absl::OkStatus();
      return absl::InternalError(absl::StrCat("MPI_Comm_set_errhandler: ", MpiErrorText(code)));
    });
  }();
  if (!set_up.ok()) {
    // The others may be waiting for this rank: tell them, and do not finalize.
    MpiRuntime::MarkJobFailed(set_up);
    MpiRuntime::Release();
    return set_up;
  }
  return std::unique_ptr<Communicator>(new MpiCommunicator(mpi, comm, options.comm));
}

void MarkMpiJobFailed(const absl::Status& why) { MpiRuntime::MarkJobFailed(why); }

int MpiRanksOnThisHost() { return MpiRuntime::RanksOnThisHost(); }

absl::Duration MpiProgressThreadCpuTime() { return MpiRuntime::ThreadCpuTime(); }

}  // namespace ald
