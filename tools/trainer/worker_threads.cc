#include "tools/trainer/worker_threads.h"

#include <omp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ald {

WorkerThreads ChooseWorkerThreads(int64_t flag, int cores, int workers_on_host, int thread_limit) {
  WorkerThreads chosen;
  if (flag > 0) {
    chosen = {static_cast<int>(flag), "--threads_per_worker"};
  } else {
    const int workers = std::max(1, workers_on_host);
    chosen = {std::max(1, cores / workers),
              absl::StrCat(cores, " cores / ", workers, workers == 1 ? " worker" : " workers",
                           " on this host; --threads_per_worker overrides")};
  }
  if (thread_limit > 0 && chosen.threads > thread_limit) {
    absl::StrAppend(&chosen.origin, "; capped from ", chosen.threads, " by OMP_THREAD_LIMIT=",
                    thread_limit);
    chosen.threads = thread_limit;
  }
  return chosen;
}

int OpenMpThreadLimit() { return omp_get_thread_limit(); }

void UseWorkerThreads(const WorkerThreads& threads) { omp_set_num_threads(threads.threads); }

std::string DescribeWorkerThreads(const WorkerThreads& threads) {
  return absl::StrCat("OpenMP threads per worker: ", threads.threads, " (", threads.origin, ")");
}

}  // namespace ald
