// How many OpenMP threads a worker's kernels use: one rule for in-process workers and MPI ranks,
// so that both reach the same bits (oneDNN's reductions associate differently with more threads).
#pragma once

#include <cstdint>
#include <string>

namespace ald {

struct WorkerThreads {
  int threads = 1;
  std::string origin;  // "2 cores / 4 workers on this host" or "--threads_per_worker"
};

// `flag` (--threads_per_worker) when > 0; otherwise this host's cores shared among the workers
// that run on it, at least 1. OMP_NUM_THREADS is not consulted: it would apply to MPI ranks
// but not to in-process workers (each sets its own count), and the two would then differ.
// Either is capped at `thread_limit` (OpenMP's, from OMP_THREAD_LIMIT): OpenMP never starts more
// threads than that, while oneDNN plans its kernels for the count set here, and a kernel that
// splits a reduction over threads then waits at its barrier forever for the missing ones.
WorkerThreads ChooseWorkerThreads(int64_t flag, int cores, int workers_on_host, int thread_limit);

// OpenMP's limit on the threads of a parallel region (OMP_THREAD_LIMIT; huge when unset).
int OpenMpThreadLimit();

// Sets the calling thread's OpenMP thread count (its later parallel regions, oneDNN's included).
void UseWorkerThreads(const WorkerThreads& threads);

// "OpenMP threads per worker: 1 (2 cores / 4 workers on this host)".
std::string DescribeWorkerThreads(const WorkerThreads& threads);

}  // namespace ald
