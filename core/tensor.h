// Tensor: a dense, row-major, contiguous block of elements with a shape, a dtype and a device.
// Storage is shared between a tensor and its views (Reshape, Slice), so views are cheap; a
// tensor may also wrap memory it does not own (an offset in the graph's memory arena).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/allocator.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/shape.h"

namespace ald {

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage

  // Allocates zero-filled storage from `allocator` (the default CPU allocator when null).
  static absl::StatusOr<Tensor> Create(Shape shape, DType dtype = DType::kF32,
                                       Allocator* allocator = nullptr);
  // A CPU f32 tensor holding `values`; their count must match the shape.
  static absl::StatusOr<Tensor> FromVector(Shape shape, const std::vector<float>& values);
  static absl::StatusOr<Tensor> FromInt32s(Shape shape, const std::vector<int32_t>& values);
  // A view of `bytes` of external memory that the caller keeps alive (no ownership).
  static absl::StatusOr<Tensor> Wrap(void* data, size_t bytes, Shape shape, DType dtype,
                                     Device device = Device::Cpu());

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  int64_t num_elements() const { return shape_.num_elements(); }
  size_t num_bytes() const { return static_cast<size_t>(num_elements()) * DTypeSize(dtype_); }

  void* raw_data() { return defined() ? static_cast<char*>(storage_->data) + offset_ : nullptr; }
  const void* raw_data() const {
    return defined() ? static_cast<const char*>(storage_->data) + offset_ : nullptr;
  }
  // Typed access; T must match dtype() (a programming error otherwise, checked in debug builds).
  template <typename T> T* data() {
    assert(DTypeOf<T>::value == dtype_);
    return static_cast<T*>(raw_data());
  }
  template <typename T> const T* data() const {
    assert(DTypeOf<T>::value == dtype_);
    return static_cast<const T*>(raw_data());
  }
  template <typename T> std::span<T> values() { return {data<T>(), static_cast<size_t>(num_elements())}; }
  template <typename T> std::span<const T> values() const {
    return {data<T>(), static_cast<size_t>(num_elements())};
  }
  // Element at a multi-index (for tests and small host-side work; not for hot loops).
  template <typename T> T& at(std::initializer_list<int64_t> index) { return data<T>()[Offset(index)]; }
  template <typename T> const T& at(std::initializer_list<int64_t> index) const {
    return data<T>()[Offset(index)];
  }

  // A view with another shape of the same element count.
  absl::StatusOr<Tensor> Reshape(Shape shape) const;
  // A view of rows [begin, end) along dimension 0.
  absl::StatusOr<Tensor> Slice(int64_t begin, int64_t end) const;
  // Copies the elements of `source` (same shape and dtype) into this tensor's storage.
  absl::Status CopyFrom(const Tensor& source);
  // A new tensor with its own storage holding the same elements.
  absl::StatusOr<Tensor> Clone() const;
  // Sets every f32 element to `value`.
  void Fill(float value);
  void SetZero();

  // "f32[2, 3] cpu"
  std::string Describe() const;

 private:
  struct Storage {
    void* data = nullptr;
    size_t bytes = 0;
    Allocator* allocator = nullptr;  // null: not owned
    ~Storage() {
      if (allocator != nullptr) allocator->Deallocate(data, bytes);
    }
  };

  int64_t Offset(std::initializer_list<int64_t> index) const;

  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;  // bytes from storage_->data
  Shape shape_;
  DType dtype_ = DType::kF32;
  Device device_;
};

}  // namespace ald
