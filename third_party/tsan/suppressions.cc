// ThreadSanitizer's suppressions, compiled into every binary under --config=tsan (a file named
// in TSAN_OPTIONS would need a path that Bazel's test sandbox does not give). Only reports proven
// to lie wholly inside uninstrumented system libraries belong here, each with its evidence; our
// own code gets fixes instead.
extern "C" const char* __tsan_default_suppressions() {
  return
      // Open MPI 4.1's TCP transport, setting up its connections (MPI_Init on the progress
      // thread): both locks of the reported cycle are taken inside mca_btl_tcp_add_procs
      // (mca_btl_tcp.so), with no frame of ours between them; the order is Open MPI's own.
      "deadlock:mca_btl_tcp_add_procs\n"
      // oneDNN 2.6's primitive cache, two workers creating the same primitive at once: one
      // thread's posix_memalign and another's memcmp of that block, each called straight from
      // libdnnl.so.2 with no frame of ours between (trace_instrumentation_test, ReluCpu::Create on
      // two in-process workers). The cache orders them by its own synchronisation, compiled into
      // the uninstrumented libdnnl and so invisible to TSan. libdnnl's own loads and stores are
      // never seen anyway; this ignores only the libc calls it makes.
      "called_from_lib:libdnnl.so.2\n"
      // abseil's deadlock-detection graph, two threads destroying an absl::Mutex each at once:
      // ~Mutex -> ForgetDeadlockInfo -> GraphCycles::RemoveNode, whose memmove TSan intercepts,
      // called straight from libabsl_graphcycles_internal.so (train_test, all-reduce SGD's
      // PendingCollective states, one per bucket and step, freed on two worker threads).
      // abseil's mutex.cc calls RemoveNode only under its own deadlock_graph_mu, a SpinLock in
      // the uninstrumented library, so TSan cannot see the order. Only the graph's libc calls.
      "called_from_lib:libabsl_graphcycles_internal.so\n";
}
