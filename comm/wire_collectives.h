// The collectives that carry models (EASGD's mean, LSGD's leader copy) in a wire format
// (comm/wire_format.h): fp32 as the communicator moves floats, or bf16 at half the bytes,
// packed and summed here, so every backend rounds and adds alike.
#pragma once

#include <span>

#include "absl/status/status.h"
#include "comm/communicator.h"
#include "comm/wire_format.h"

namespace ald {

// data ← the sum (or mean) over ranks of every rank's data as sent: fp32, comm.AllReduce;
// bf16, each rank's data rounded to bf16 (its own too, so that every rank gets the same bits),
// gathered and added in fp32 in rank order 0..n-1 (then divided by n for the mean), whatever
// CommOptions::reproducible_sums says. `rounding` is this rank's (its key names this rank as the
// sender; bf16 only).
absl::Status AllReduceOnWire(Communicator& comm, std::span<float> data, ReduceOp op,
                             WireFormat wire, WireRounding rounding = {});
// data ← rank `root`'s data as sent: with bf16, every other rank receives it rounded to bf16 (as
// the root's `rounding` draws) and the root keeps its own fp32 values.
absl::Status BroadcastOnWire(Communicator& comm, std::span<float> data, int root,
                             WireFormat wire, WireRounding rounding = {});

}  // namespace ald
