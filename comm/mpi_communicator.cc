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
  // (MPI_Allreduce may associate it differently), with a ring all-reduce's traffic: each rank owns
  // one slice of the buffer; an all-to-all brings it every rank's copy of its slice, which it adds
  // up in rank order, and an all-gather hands the summed slices to everyone. Each rank sends and
  // receives (n-1)/n of the buffer twice, where an all-gather of the whole buffer would move it
  // n-1 times. Long buffers go a chunk at a time, which bounds the scratch.
  absl::Status SumInRankOrder(std::span<float> data, const std::string& description) {
    constexpr size_t kChunkFloats = size_t{1} << 22;  // 16 MiB
    for (size_t begin = 0; begin < data.size(); begin += kChunkFloats) {
      RETURN_IF_ERROR(SumChunkInRankOrder(
          data.subspan(begin, std::min(kChunkFloats, data.size() - begin)), description));
    }
    return absl::OkStatus();
  }

  absl::Status SumChunkInRankOrder(std::span<float> chunk, const std::string& description) {
    // Rank r owns slice r: chunk.size() / n elements, the first chunk.size() % n slices one more.
    const size_t n = static_cast<size_t>(size_);
    std::vector<int> slice_counts(n), slice_offsets(n);
    for (size_t r = 0, offset = 0; r < n; ++r) {
      slice_counts[r] = static_cast<int>(chunk.size() / n + (r < chunk.size() % n ? 1 : 0));
      slice_offsets[r] = static_cast<int>(offset);
      offset += static_cast<size_t>(slice_counts[r]);
    }
    const int mine = slice_counts[static_cast<size_t>(rank_)];
    // copies[r * mine ..]: rank r's values of this rank's slice.
    std::vector<float> copies(static_cast<size_t>(mine) * n);
    std::vector<int> copy_counts(n, mine), copy_offsets(n);
    for (size_t r = 0; r < n; ++r) copy_offsets[r] = static_cast<int>(r) * mine;
    RETURN_IF_ERROR(Collective(description, [&](MPI_Request* request) {
      return MPI_Ialltoallv(chunk.data(), slice_counts.data(), slice_offsets.data(), MPI_FLOAT,
                            copies.data(), copy_counts.data(), copy_offsets.data(), MPI_FLOAT,
                            comm_, request);
    }));
    // The sum builds up over rank 0's copy, at the front of `copies`.
    float* summed = copies.data();
    for (size_t r = 1; r < n; ++r) {
      const float* term = copies.data() + r * static_cast<size_t>(mine);
      for (int i = 0; i < mine; ++i) summed[i] += term[i];
    }
    return Collective(description, [&](MPI_Request* request) {
      return MPI_Iallgatherv(summed, mine, MPI_FLOAT, chunk.data(), slice_counts.data(),
                             slice_offsets.data(), MPI_FLOAT, comm_, request);
    });
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
