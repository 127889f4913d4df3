// ThreadSanitizer's suppressions, compiled into every binary under --config=tsan (a file named
// in TSAN_OPTIONS would need a path that Bazel's test sandbox does not give). Only reports proven
// to lie wholly inside uninstrumented system libraries belong here, each with its evidence; our
// own code gets fixes instead.
extern "C" const char* __tsan_default_suppressions() {
  return
      // Open MPI 4.1's TCP transport, setting up its connections (MPI_Init on the progress
      // thread): both locks of the reported cycle are taken inside mca_btl_tcp_add_procs
      // (mca_btl_tcp.so), with no frame of ours between them; the order is Open MPI's own.
      "deadlock:mca_btl_tcp_add_procs\n";
}
