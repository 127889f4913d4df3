// libFuzzer harness: the topology-file parser (--topology=file:PATH).
#include <cstddef>
#include <cstdint>

#include "comm/topology/network_graph.h"
#include "core/testing/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ald::ReadGraphFile(ald::testing::FuzzInputFile(data, size, ".txt"));
  return 0;
}
