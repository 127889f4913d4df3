// oneDNN here runs on GNU OpenMP, whose idle threads spin for ~300,000 iterations before they
// sleep. On a busy 2-core machine (or with several in-process workers) the spinning threads
// starve the ones doing work: a 1-second training test took 47 s under load. A bounded spin
// (GOMP_SPINCOUNT) fixes that at a small cost on an idle machine. libgomp reads the variable
// when it is loaded, before main(), so the binary re-executes itself once with it set.
#pragma once

namespace ald {

// Unless the user set GOMP_SPINCOUNT or OMP_WAIT_POLICY, sets GOMP_SPINCOUNT=`spin_count` and
// re-executes this program with the same arguments (returns only if it did not re-execute).
void RelaunchWithBoundedOpenMpSpin(char** argv, const char* spin_count = "10000");

}  // namespace ald
