// DeviceBuffer<T>: an owned cudaMalloc'ed array of T with synchronous copies to and from host
// spans; what tests and small callers use (the executor's arena hands out raw pointers instead).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      Release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { Release(); }

  // `count` uninitialised elements; an empty buffer holds a null pointer.
  static absl::StatusOr<DeviceBuffer> Create(int64_t count) {
    if (count < 0) return absl::InvalidArgumentError(absl::StrCat("DeviceBuffer: count ", count));
    DeviceBuffer buffer;
    if (count > 0) {
      void* data = nullptr;
      RETURN_IF_CUDA_ERROR(cudaMalloc(&data, static_cast<size_t>(count) * sizeof(T)));
      buffer.data_ = static_cast<T*>(data);
      buffer.size_ = count;
    }
    return buffer;
  }
  static absl::StatusOr<DeviceBuffer> FromHost(std::span<const T> values) {
    ASSIGN_OR_RETURN(DeviceBuffer buffer, Create(static_cast<int64_t>(values.size())));
    RETURN_IF_ERROR(buffer.CopyFromHost(values));
    return buffer;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  int64_t size() const { return size_; }
  size_t bytes() const { return static_cast<size_t>(size_) * sizeof(T); }

  // Synchronous (cudaMemcpy orders after all prior work of the legacy default stream and of
  // blocking streams); sizes must match exactly.
  absl::Status CopyFromHost(std::span<const T> values) {
    RETURN_IF_ERROR(CheckSize("CopyFromHost", values.size()));
    if (size_ == 0) return absl::OkStatus();
    RETURN_IF_CUDA_ERROR(cudaMemcpy(data_, values.data(), bytes(), cudaMemcpyHostToDevice));
    return absl::OkStatus();
  }
  absl::Status CopyToHost(std::span<T> values) const {
    RETURN_IF_ERROR(CheckSize("CopyToHost", values.size()));
    if (size_ == 0) return absl::OkStatus();
    RETURN_IF_CUDA_ERROR(cudaMemcpy(values.data(), data_, bytes(), cudaMemcpyDeviceToHost));
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<T>> ToHost() const {
    std::vector<T> values(static_cast<size_t>(size_));
    RETURN_IF_ERROR(CopyToHost(values));
    return values;
  }

 private:
  absl::Status CheckSize(const char* what, size_t host_size) const {
    if (static_cast<int64_t>(host_size) == size_) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("DeviceBuffer::", what, ": host span has ",
                                                   host_size, " elements, buffer ", size_));
  }
  void Release() {
    // A destructor cannot report; cudaFree only fails on a corrupted context, which the next
    // checked call reports anyway.
    if (data_ != nullptr) (void)cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace ald::cuda
