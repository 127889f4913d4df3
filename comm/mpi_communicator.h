// MPI backend (OpenMPI 4.1): one process per worker, any number of machines.
//
// A dedicated progress thread owns every MPI call (MPI_THREAD_SERIALIZED, all calls from that
// one thread). OpenMPI's TCP and shared-memory transports only move data inside MPI calls, so
// something must keep calling MPI while the workers compute; one owner thread is simpler and
// portable (no MPI_THREAD_MULTIPLE, whose OpenMPI builds lock every call anyway). The thread
// sleeps on a condition variable when nothing is in flight (no CPU), spins for `spin_window`
// after any activity (low latency for ping-pong), and otherwise polls MPI_Testsome every
// `poll_interval`, which keeps it a few percent of one core on a 2-core machine.
//
// Faults: every wait has a deadline. Beside MPI, a liveness mesh (liveness_mesh.h: a TCP
// connection between every pair of ranks, with heartbeats) learns within ~0.1 s which rank died,
// on any host, and which one a rank that exits because of it blames; every wait then fails as
// Unavailable naming that rank, whatever peer it was waiting for. A rank silent for the timeout
// is named then. After an error the process should report it and exit: MPI is then not
// finalized (MPI_Finalize would wait for the dead peer), and pending sends may still read their
// buffers until exit.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "comm/communicator.h"
#include "comm/mpi_options.h"

namespace ald {


// A communicator over all ranks of the job (a duplicate of MPI_COMM_WORLD with
// MPI_ERRORS_RETURN). The first call initializes MPI; destroying the last communicator
// finalizes it, after which no new one can be created in this process.
absl::StatusOr<std::unique_ptr<Communicator>> CreateMpiCommunicator(MpiOptions options = {});

// The job failed in this process with `why` (call it before destroying the communicators, on
// any error): MPI is then not finalized, since MPI_Finalize would wait for ranks that may be
// dead, and the other ranks learn whom to blame: the rank this one saw fail, else this one.
void MarkMpiJobFailed(const absl::Status& why);

// How many ranks of the job run on this host (by host name), once a communicator exists.
int MpiRanksOnThisHost();

// CPU time the progress thread has used so far (for measuring its cost).
absl::Duration MpiProgressThreadCpuTime();

}  // namespace ald
