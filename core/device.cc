#include "core/device.h"

#include "absl/strings/str_cat.h"

namespace ald {

std::string Device::ToString() const {
  return type == DeviceType::kCpu ? "cpu" : absl::StrCat("cuda:", index);
}

}  // namespace ald
