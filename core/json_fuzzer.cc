// libFuzzer harness: the JSON reader (safetensors headers) on arbitrary text; any input must
// give a value or an error, never a crash, hang or sanitizer report.
#include <cstddef>
#include <cstdint>

#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ald::json::Parse(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
