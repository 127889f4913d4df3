// How the MPI backend runs its progress thread (see mpi_communicator.h).
#pragma once

#include "absl/time/time.h"
#include "comm/communicator.h"

namespace ald {

struct MpiOptions {
  CommOptions comm;
  absl::Duration poll_interval = absl::Microseconds(200);
  absl::Duration spin_window = absl::Microseconds(200);
  // The progress thread's nice value (lower runs first; needs root or CAP_SYS_NICE below 0).
  int progress_nice = -10;
};

}  // namespace ald
