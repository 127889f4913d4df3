#include "tools/trainer/openmp_env.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace ald {

void RelaunchWithBoundedOpenMpSpin(char** argv, const char* spin_count) {
  if (std::getenv("GOMP_SPINCOUNT") != nullptr || std::getenv("OMP_WAIT_POLICY") != nullptr) {
    return;
  }
  setenv("GOMP_SPINCOUNT", spin_count, 1);
  execv("/proc/self/exe", argv);
  // Could not re-execute (no /proc?): carry on with OpenMP's default spinning.
  std::perror("note: could not re-execute with GOMP_SPINCOUNT set");
}

}  // namespace ald
