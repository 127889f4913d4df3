#include "tools/trainer/worker_threads.h"

#include <omp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ald {

WorkerThreads ChooseWorkerThreads(int64_t flag, int cores, int workers_on_host) {
  if (flag > 0) return {static_cast<int>(flag), "--threads_per_worker"};
  const int workers = std::max(1, workers_on_host);
  return {std::max(1, cores / workers),
          absl::StrCat(cores, " cores / ", workers, workers == 1 ? " worker" : " workers",
                       " on this host; --threads_per_worker overrides")};
}

void UseWorkerThreads(const WorkerThreads& threads) { omp_set_num_threads(threads.threads); }

std::string DescribeWorkerThreads(const WorkerThreads& threads) {
  return absl::StrCat("OpenMP threads per worker: ", threads.threads, " (", threads.origin, ")");
}

}  // namespace ald
