// libFuzzer harness: the IDX reader behind gzip (or plain), images and labels.
#include <cstddef>
#include <cstdint>

#include "core/testing/fuzz_input.h"
#include "data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ald::testing::FuzzInputFile(data, size, "");
  (void)ald::ReadIdxImages(path);
  (void)ald::ReadIdxLabels(path, 10);
  return 0;
}
