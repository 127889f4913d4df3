// Where a tensor's memory lives.
#pragma once

#include <string>

namespace ald {

enum class DeviceType { kCpu, kCuda };

struct Device {
  DeviceType type = DeviceType::kCpu;
  int index = 0;

  static Device Cpu() { return {DeviceType::kCpu, 0}; }
  static Device Cuda(int index) { return {DeviceType::kCuda, index}; }
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  std::string ToString() const;
};

}  // namespace ald
