// What the transport's exchanges are measured in: a range of a flat float buffer (a bucket, or
// one message of a model exchange) and the traffic and waiting a worker accumulates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ald {

// A contiguous range of a flat float buffer.
struct BucketSpan {
  size_t offset = 0;  // in floats
  size_t size = 0;
};

// What a worker sent and how long it waited, for the metrics and the comparison table.
struct CommStats {
  int64_t bytes_sent = 0;
  int64_t messages_sent = 0;
  double wait_seconds = 0;  // time spent blocked in EndStep / collectives
};

}  // namespace ald
