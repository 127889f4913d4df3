// LeakSanitizer and Open MPI 4.1: MPI_Init allocates memory that MPI_Finalize never frees (in
// ompi_op_init, orte_init and the plugins it loads), MPI_Finalize allocates some itself, and so
// does Open MPI's own event thread (libevent's event_base_loop, a thread we never call into).
// Every such allocation stack runs through ompi_mpi_init, ompi_mpi_finalize or event_base_loop
// with no frame of ours above it, so exactly those are suppressed.
// Open MPI unloads its plugins at MPI_Finalize and builds them without frame pointers, so LSan's
// fast unwinder stops at the first plugin frame and never reaches ompi_mpi_init; an MPI rank
// (OMPI_COMM_WORLD_RANK is set) therefore unwinds its allocations with DWARF (slower, and only
// in MPI ranks). Suppressions and options are compiled in: a file named in LSAN_OPTIONS would
// need a path that Bazel's test sandbox does not give.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace {

// Whether this process is an MPI rank. ASan asks for its options before libc's getenv works,
// so the environment is read from /proc with raw system calls.
bool IsMpiRank() {
  static char environment[1 << 16];
  const long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/environ", O_RDONLY);
  if (fd < 0) return false;
  long size = 0;
  while (size < static_cast<long>(sizeof(environment)) - 1) {
    const long got = syscall(SYS_read, fd, environment + size, sizeof(environment) - 1 - size);
    if (got <= 0) break;
    size += got;
  }
  syscall(SYS_close, fd);
  for (long i = 0; i < size; i += static_cast<long>(std::strlen(environment + i)) + 1) {
    if (std::strncmp(environment + i, "OMPI_COMM_WORLD_RANK=", 21) == 0) return true;
  }
  return false;
}

}  // namespace

extern "C" const char* __lsan_default_suppressions() {
  return "leak:ompi_mpi_init\n"
         "leak:ompi_mpi_finalize\n"
         "leak:event_base_loop\n";
}

extern "C" const char* __asan_default_options() {
  return IsMpiRank() ? "fast_unwind_on_malloc=0" : "";
}
