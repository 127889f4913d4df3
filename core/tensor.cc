#include "core/tensor.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {

absl::StatusOr<Tensor> Tensor::Create(Shape shape, DType dtype, Allocator* allocator) {
  RETURN_IF_ERROR(Shape::Make(shape.dims(), "Tensor::Create").status());
  if (allocator == nullptr) allocator = DefaultCpuAllocator();
  Tensor tensor;
  tensor.shape_ = std::move(shape);
  tensor.dtype_ = dtype;
  tensor.device_ = allocator->device();
  const size_t bytes = tensor.num_bytes();
  ASSIGN_OR_RETURN(void* data, allocator->Allocate(bytes));
  tensor.storage_ = std::make_shared<Storage>();
  tensor.storage_->data = data;
  tensor.storage_->bytes = bytes;
  tensor.storage_->allocator = allocator;
  if (tensor.device_.type == DeviceType::kCpu) std::memset(data, 0, bytes);
  return tensor;
}

template <typename T>
static absl::StatusOr<Tensor> TensorFromValues(Shape shape, const std::vector<T>& values) {
  if (shape.num_elements() != static_cast<int64_t>(values.size())) {
    return absl::InvalidArgumentError(absl::StrCat("Tensor::FromVector: shape ", shape.ToString(),
                                                   " holds ", shape.num_elements(),
                                                   " elements, got ", values.size(), " values"));
  }
  ASSIGN_OR_RETURN(Tensor tensor, Tensor::Create(std::move(shape), DTypeOf<T>::value));
  std::copy(values.begin(), values.end(), tensor.data<T>());
  return tensor;
}

absl::StatusOr<Tensor> Tensor::FromVector(Shape shape, const std::vector<float>& values) {
  return TensorFromValues(std::move(shape), values);
}

absl::StatusOr<Tensor> Tensor::FromInt32s(Shape shape, const std::vector<int32_t>& values) {
  return TensorFromValues(std::move(shape), values);
}

absl::StatusOr<Tensor> Tensor::Wrap(void* data, size_t bytes, Shape shape, DType dtype,
                                    Device device) {
  RETURN_IF_ERROR(Shape::Make(shape.dims(), "Tensor::Wrap").status());
  const size_t needed = static_cast<size_t>(shape.num_elements()) * DTypeSize(dtype);
  if (needed > bytes) {
    return absl::InvalidArgumentError(absl::StrCat("Tensor::Wrap: ", DTypeName(dtype),
                                                   shape.ToString(), " needs ", needed,
                                                   " bytes, the buffer has ", bytes));
  }
  if (data == nullptr && needed > 0) {
    return absl::InvalidArgumentError("Tensor::Wrap: null buffer for a non-empty tensor");
  }
  Tensor tensor;
  tensor.storage_ = std::make_shared<Storage>();
  tensor.storage_->data = data;
  tensor.storage_->bytes = bytes;
  tensor.shape_ = std::move(shape);
  tensor.dtype_ = dtype;
  tensor.device_ = device;
  return tensor;
}

absl::StatusOr<Tensor> Tensor::Reshape(Shape shape) const {
  if (shape.num_elements() != num_elements()) {
    return absl::InvalidArgumentError(absl::StrCat("Reshape: cannot view ", Describe(), " as ",
                                                   shape.ToString(), " (", num_elements(),
                                                   " vs ", shape.num_elements(), " elements)"));
  }
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

absl::StatusOr<Tensor> Tensor::Slice(int64_t begin, int64_t end) const {
  if (shape_.rank() == 0) return absl::InvalidArgumentError("Slice: a scalar has no rows");
  if (begin < 0 || end < begin || end > shape_.dim(0)) {
    return absl::InvalidArgumentError(absl::StrCat("Slice: rows [", begin, ", ", end,
                                                   ") are outside ", Describe()));
  }
  std::vector<int64_t> dims = shape_.dims();
  const int64_t row_elements = dims[0] == 0 ? 0 : num_elements() / dims[0];
  dims[0] = end - begin;
  Tensor view = *this;
  view.shape_ = Shape(std::move(dims));
  view.offset_ = offset_ + static_cast<size_t>(begin * row_elements) * DTypeSize(dtype_);
  return view;
}

absl::Status Tensor::CopyFrom(const Tensor& source) {
  if (source.shape_ != shape_ || source.dtype_ != dtype_) {
    return absl::InvalidArgumentError(
        absl::StrCat("CopyFrom: destination ", Describe(), " but source ", source.Describe()));
  }
  if (device_.type != DeviceType::kCpu || source.device_.type != DeviceType::kCpu) {
    return absl::UnimplementedError("CopyFrom: only CPU tensors are copied on the host");
  }
  if (num_bytes() > 0) std::memmove(raw_data(), source.raw_data(), num_bytes());
  return absl::OkStatus();
}

absl::StatusOr<Tensor> Tensor::Clone() const {
  ASSIGN_OR_RETURN(Tensor copy, Create(shape_, dtype_));
  RETURN_IF_ERROR(copy.CopyFrom(*this));
  return copy;
}

void Tensor::Fill(float value) {
  std::span<float> elements = values<float>();
  std::fill(elements.begin(), elements.end(), value);
}

void Tensor::SetZero() {
  if (num_bytes() > 0) std::memset(raw_data(), 0, num_bytes());
}

std::string Tensor::Describe() const {
  if (!defined()) return "undefined tensor";
  return absl::StrCat(DTypeName(dtype_), shape_.ToString(), " ", device_.ToString());
}

int64_t Tensor::Offset(std::initializer_list<int64_t> index) const {
  assert(static_cast<int>(index.size()) == shape_.rank());
  int64_t offset = 0;
  int i = 0;
  for (int64_t coordinate : index) {
    assert(coordinate >= 0 && coordinate < shape_.dim(i));
    offset = offset * shape_.dim(i) + coordinate;
    ++i;
  }
  return offset;
}

}  // namespace ald
