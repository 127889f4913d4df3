#include "comm/wire_collectives.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace ald {
namespace {

// Gathered per round from each rank: bounds the scratch at 512 KiB per rank (like the fp32
// reproducible sum's chunks) and keeps MPI's int counts small.
constexpr size_t kChunkFloats = size_t{1} << 18;

}  // namespace

absl::Status AllReduceOnWire(Communicator& comm, std::span<float> data, ReduceOp op,
                             WireFormat wire, WireRounding rounding) {
  if (wire == WireFormat::kFp32) return comm.AllReduce(data, op);
  const size_t ranks = static_cast<size_t>(comm.size());
  const size_t chunk = std::min(data.size(), kChunkFloats);
  // Allocated per call: the models' collectives run once per bucket every tau steps, and an
  // allocation is small against the collective itself.
  std::vector<uint16_t> mine(chunk), gathered(chunk * ranks);
  std::vector<float> term(chunk);
  for (size_t begin = 0; begin < data.size(); begin += chunk) {
    const size_t count = std::min(chunk, data.size() - begin);
    const std::span<float> sum = data.subspan(begin, count);
    PackForWire(wire, sum, std::span(mine).first(count),
                WireRounding{rounding.key, rounding.first_index + begin});
    const std::span<uint16_t> all = std::span(gathered).first(count * ranks);
    RETURN_IF_ERROR(comm.AllGather(std::as_bytes(std::span(mine).first(count)),
                                   std::as_writable_bytes(all)));
    UnpackBf16(all.first(count), sum);
    for (size_t rank = 1; rank < ranks; ++rank) {
      UnpackBf16(all.subspan(rank * count, count), std::span(term).first(count));
      for (size_t i = 0; i < count; ++i) sum[i] += term[i];
    }
    if (op == ReduceOp::kAverage) {
      const float n = static_cast<float>(ranks);
      for (float& value : sum) value /= n;
    }
  }
  return absl::OkStatus();
}

absl::Status BroadcastOnWire(Communicator& comm, std::span<float> data, int root,
                             WireFormat wire, WireRounding rounding) {
  if (wire == WireFormat::kFp32) return comm.Broadcast(data, root);
  std::vector<uint16_t> words(data.size());
  const bool is_root = comm.rank() == root;
  if (is_root) PackForWire(wire, data, words, rounding);
  RETURN_IF_ERROR(comm.Broadcast(std::as_writable_bytes(std::span(words)), root));
  if (!is_root) UnpackBf16(words, data);
  return absl::OkStatus();
}

}  // namespace ald
