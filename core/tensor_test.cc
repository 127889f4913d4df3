#include "core/tensor.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace ald {
namespace {

TEST(ShapeTest, CountsAndStrides) {
  Shape shape{2, 3, 4};
  EXPECT_EQ(shape.rank(), 3);
  EXPECT_EQ(shape.num_elements(), 24);
  EXPECT_EQ(shape.Strides(), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(shape.dim(-1), 4);
  EXPECT_EQ(shape.ToString(), "[2, 3, 4]");
  EXPECT_EQ(Shape().num_elements(), 1);
}

TEST(ShapeTest, RejectsNegativeDimensionsNamingThem) {
  absl::StatusOr<Shape> shape = Shape::Make({2, -1}, "conv1 weight");
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.status().message().find("conv1 weight: dimension 1 is -1"), std::string::npos)
      << shape.status();
}

TEST(TensorTest, CreateIsZeroedAndAligned) {
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kI32}) {
    absl::StatusOr<Tensor> tensor = Tensor::Create(Shape{3, 5}, dtype);
    ASSERT_TRUE(tensor.ok()) << tensor.status();
    EXPECT_EQ(tensor->num_bytes(), 15 * DTypeSize(dtype));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor->raw_data()) % kCpuAlignment, 0u);
    const auto* bytes = static_cast<const unsigned char*>(tensor->raw_data());
    for (size_t i = 0; i < tensor->num_bytes(); ++i) ASSERT_EQ(bytes[i], 0);
  }
}

TEST(TensorTest, AllocatorTracksBytesInUse) {
  CpuAllocator allocator;
  {
    absl::StatusOr<Tensor> a = Tensor::Create(Shape{256}, DType::kF32, &allocator);
    ASSERT_TRUE(a.ok());
    absl::StatusOr<Tensor> view = a->Reshape(Shape{16, 16});
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(allocator.bytes_in_use(), 1024u);
  }
  EXPECT_EQ(allocator.bytes_in_use(), 0u);
  EXPECT_EQ(allocator.peak_bytes(), 1024u);
}

TEST(TensorTest, ReshapeAndSliceAreViews) {
  absl::StatusOr<Tensor> tensor = Tensor::FromVector(Shape{2, 3}, {0, 1, 2, 3, 4, 5});
  ASSERT_TRUE(tensor.ok());
  absl::StatusOr<Tensor> flat = tensor->Reshape(Shape{6});
  ASSERT_TRUE(flat.ok());
  flat->data<float>()[4] = 40;
  EXPECT_EQ(tensor->at<float>({1, 1}), 40);

  absl::StatusOr<Tensor> row = tensor->Slice(1, 2);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->shape(), (Shape{1, 3}));
  EXPECT_EQ(row->at<float>({0, 2}), 5);
  row->at<float>({0, 0}) = -3;
  EXPECT_EQ(tensor->at<float>({1, 0}), -3);
}

TEST(TensorTest, BadViewsAreErrorsNotCrashes) {
  absl::StatusOr<Tensor> tensor = Tensor::Create(Shape{2, 3});
  ASSERT_TRUE(tensor.ok());
  EXPECT_FALSE(tensor->Reshape(Shape{4, 2}).ok());
  EXPECT_FALSE(tensor->Slice(1, 3).ok());
  EXPECT_FALSE(tensor->Slice(-1, 1).ok());
  absl::StatusOr<Tensor> other = Tensor::Create(Shape{3, 2});
  ASSERT_TRUE(other.ok());
  absl::Status copied = tensor->CopyFrom(*other);
  EXPECT_FALSE(copied.ok());
  EXPECT_NE(copied.message().find("f32[2, 3]"), std::string::npos) << copied;
  EXPECT_FALSE(Tensor::FromVector(Shape{2, 2}, std::vector<float>{1, 2, 3}).ok());
  float small[2];
  EXPECT_FALSE(Tensor::Wrap(small, sizeof(small), Shape{3}, DType::kF32).ok());
}

TEST(TensorTest, CloneOwnsItsStorage) {
  absl::StatusOr<Tensor> tensor = Tensor::FromVector(Shape{3}, {1, 2, 3});
  ASSERT_TRUE(tensor.ok());
  absl::StatusOr<Tensor> copy = tensor->Clone();
  ASSERT_TRUE(copy.ok());
  copy->Fill(7);
  EXPECT_EQ(tensor->at<float>({2}), 3);
  EXPECT_EQ(copy->at<float>({2}), 7);
}

TEST(TensorTest, WrapDoesNotOwn) {
  std::vector<float> buffer = {1, 2, 3, 4};
  absl::StatusOr<Tensor> tensor =
      Tensor::Wrap(buffer.data(), buffer.size() * sizeof(float), Shape{2, 2}, DType::kF32);
  ASSERT_TRUE(tensor.ok());
  tensor->at<float>({1, 1}) = 9;
  EXPECT_EQ(buffer[3], 9);
}

TEST(BFloat16Test, RoundsToNearestEven) {
  EXPECT_EQ(static_cast<float>(BFloat16(1.0f)), 1.0f);
  EXPECT_EQ(static_cast<float>(BFloat16(-2.5f)), -2.5f);
  // 1 + 2^-8 lies halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1).
  EXPECT_EQ(static_cast<float>(BFloat16(1.0f + 1.0f / 256)), 1.0f);
  // Just above halfway rounds up.
  EXPECT_EQ(static_cast<float>(BFloat16(1.0f + 1.0f / 256 + 1.0f / 65536)), 1.0f + 1.0f / 128);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(static_cast<float>(BFloat16(nan))));
}

}  // namespace
}  // namespace ald
