// libFuzzer harness: the safetensors reader, and the checkpoint loader on top of it.
#include <cstddef>
#include <cstdint>

#include "checkpoint/checkpoint.h"
#include "checkpoint/safetensors.h"
#include "core/testing/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ald::testing::FuzzInputFile(data, size, ".safetensors");
  (void)ald::ReadSafetensors(path);
  (void)ald::LoadCheckpoint(path);
  return 0;
}
