// The training program's one exit-status rule: which absl::Status codes are bad input (2), which
// are a peer's failure (3), and that everything else is an internal error (1).
//
// The classes follow the codes the project's modules return, so the rule lives here once:
//   bad input     InvalidArgument (a flag or value), NotFound (a missing file), DataLoss (a corrupt
//                 or truncated file), OutOfRange (a file shorter than its header says),
//                 PermissionDenied (a file the user gave that cannot be read or written),
//                 Unimplemented (a combination of flags that is not supported);
//   peer failure  Unavailable (a peer died or aborted), DeadlineExceeded (a peer went silent for
//                 --timeout): only the communicators (comm/) return these two;
//   internal      everything else (Internal, ResourceExhausted, FailedPrecondition, ...).
#pragma once

#include "absl/status/status.h"

namespace ald {

enum ExitStatus : int {
  kExitDone = 0,
  kExitInternalError = 1,
  kExitBadInput = 2,
  kExitPeerFailure = 3,
};

// kExitDone for OK, else the class of `status` (above).
ExitStatus ExitStatusFor(const absl::Status& status);

}  // namespace ald
