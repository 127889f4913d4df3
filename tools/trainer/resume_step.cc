#include "tools/trainer/resume_step.h"

#include <algorithm>
#include <limits>
#include <span>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {
namespace {

// Each worker's value, on every worker: an all-reduce (sum) of vectors that are zero except in
// the caller's slot. A value v >= -1 travels as v + 1 split into two floats of 20 bits each
// below 2^24, so that every float and every sum is exact.
absl::StatusOr<std::vector<int64_t>> AllGather(Communicator& comm, int64_t value) {
  constexpr int64_t kLow = int64_t{1} << 20;
  std::vector<float> slots(2 * comm.size(), 0.0f);
  const int64_t shifted = value + 1;
  slots[2 * comm.rank()] = static_cast<float>(shifted / kLow);
  slots[2 * comm.rank() + 1] = static_cast<float>(shifted % kLow);
  RETURN_IF_ERROR(comm.AllReduce(std::span<float>(slots), ReduceOp::kSum));
  std::vector<int64_t> values(comm.size());
  for (int rank = 0; rank < comm.size(); ++rank) {
    values[rank] = static_cast<int64_t>(slots[2 * rank]) * kLow +
                   static_cast<int64_t>(slots[2 * rank + 1]) - 1;
  }
  return values;
}

}  // namespace

absl::StatusOr<int64_t> AgreeOnResumeStep(Communicator* comm,
                                          const std::vector<int64_t>& my_steps) {
  // This worker's newest step at or before `bound`; -1 when it has none.
  const auto newest_at_most = [&](int64_t bound) -> int64_t {
    const auto after = std::upper_bound(my_steps.begin(), my_steps.end(), bound);
    return after == my_steps.begin() ? -1 : *(after - 1);
  };
  int64_t bound = std::numeric_limits<int64_t>::max() - 1;
  // Each round every worker offers its newest step at or before the lowest offer of the round
  // before; the lowest offer never rises, and when all offers agree every worker has that step.
  while (true) {
    const int64_t mine = newest_at_most(bound);
    if (comm == nullptr || comm->size() == 1) {
      if (mine < 0) return absl::NotFoundError("no complete checkpoint");
      return mine;
    }
    ASSIGN_OR_RETURN(const std::vector<int64_t> offers, AllGather(*comm, mine));
    const auto lowest = std::min_element(offers.begin(), offers.end());
    if (*lowest < 0) {
      return absl::NotFoundError(absl::StrCat(
          "no step has a complete checkpoint on every worker: worker ", lowest - offers.begin(),
          " has none at or before step ", bound == std::numeric_limits<int64_t>::max() - 1
                                               ? std::string("its newest")
                                               : absl::StrCat(bound)));
    }
    if (std::all_of(offers.begin(), offers.end(), [&](int64_t s) { return s == *lowest; })) {
      return *lowest;
    }
    bound = *lowest;
  }
}

}  // namespace ald
