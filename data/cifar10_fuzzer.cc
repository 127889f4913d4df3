// libFuzzer harness: the CIFAR-10 binary-batch reader.
#include <cstddef>
#include <cstdint>

#include "core/testing/fuzz_input.h"
#include "data/cifar10.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ald::Cifar10Records records;
  (void)ald::AppendCifar10File(ald::testing::FuzzInputFile(data, size, ".bin"), records);
  return 0;
}
