// Where a compiled plan signals its buckets, for any backend's launch list: "ready" after the
// last launch that touches a bucket, "needed" before the first launch that reads it.
#pragma once

#include <algorithm>
#include <vector>

#include "graph/graph.h"
#include "graph/parameter_store.h"

namespace ald {

// A bucket is ready when no later launch touches it: its gradients are final AND no kernel
// still reads its parameters (a layer's backward-data reads the weights after its
// backward-weights wrote their gradient, and the algorithm updates the weights in place). It
// is needed at the first launch that reads one of its parameters. `grad_of[p]` is parameter
// p's gradient value. LaunchT has reads, writes, buckets_ready and buckets_needed.
template <typename LaunchT>
void MarkBucketSignals(const std::vector<Bucket>& buckets, const std::vector<ValueId>& grad_of,
                       std::vector<LaunchT>& launches) {
  for (const Bucket& bucket : buckets) {
    std::vector<ValueId> touched;
    for (ValueId p : bucket.parameters) {
      touched.push_back(p);
      touched.push_back(grad_of[p]);
    }
    int first_read = -1, last = -1;
    for (size_t i = 0; i < launches.size(); ++i) {
      const LaunchT& launch = launches[i];
      for (ValueId v : touched) {
        const bool reads =
            std::find(launch.reads.begin(), launch.reads.end(), v) != launch.reads.end();
        if (reads || std::find(launch.writes.begin(), launch.writes.end(), v) !=
                         launch.writes.end()) {
          last = std::max(last, static_cast<int>(i));
        }
        if (reads && first_read < 0) first_read = static_cast<int>(i);
      }
    }
    if (last >= 0) launches[last].buckets_ready.push_back(bucket.index);
    if (first_read >= 0) launches[first_read].buckets_needed.push_back(bucket.index);
  }
}

}  // namespace ald
