#include "data/batch.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

// `count` single-channel images of side x side with distinct, position-dependent pixels.
Dataset PatternDataset(int64_t count, int64_t side, int64_t channels = 1) {
  Dataset dataset;
  dataset.name = "pattern";
  dataset.count = count;
  dataset.channels = channels;
  dataset.height = side;
  dataset.width = side;
  dataset.num_classes = 10;
  for (int64_t i = 0; i < count * dataset.image_bytes(); ++i) {
    dataset.pixels.push_back(static_cast<uint8_t>(1 + (i * 37) % 250));
  }
  for (int64_t i = 0; i < count; ++i) dataset.labels.push_back(static_cast<int32_t>(i % 10));
  dataset.mean.assign(channels, 0.0f);
  dataset.stddev.assign(channels, 1.0f);
  return dataset;
}

TEST(BatchAssemblerTest, NormalisesPerChannel) {
  Dataset dataset = PatternDataset(1, 1, 3);
  dataset.pixels = {0, 255, 51};
  dataset.mean = {0.4914f, 0.4822f, 0.4465f};
  dataset.stddev = {0.2470f, 0.2435f, 0.2616f};
  auto assembler = BatchAssembler::Create(dataset);
  ASSERT_TRUE(assembler.ok()) << assembler.status();
  std::vector<float> images(3);
  std::vector<int32_t> labels(1);
  const std::vector<int64_t> indices = {0};
  assembler->Assemble(indices, nullptr, images, labels);
  EXPECT_NEAR(images[0], (0.0f - 0.4914f) / 0.2470f, 1e-6);
  EXPECT_NEAR(images[1], (1.0f - 0.4822f) / 0.2435f, 1e-6);
  EXPECT_NEAR(images[2], (0.2f - 0.4465f) / 0.2616f, 1e-6);
  EXPECT_EQ(labels[0], 0);
}

TEST(BatchAssemblerTest, GathersTheRequestedExamples) {
  const Dataset dataset = PatternDataset(5, 2);
  auto assembler = BatchAssembler::Create(dataset);
  ASSERT_TRUE(assembler.ok());
  std::vector<float> images(8);
  std::vector<int32_t> labels(2);
  const std::vector<int64_t> indices = {4, 1};
  assembler->Assemble(indices, nullptr, images, labels);
  EXPECT_EQ(labels, (std::vector<int32_t>{4, 1}));
  for (int k = 0; k < 4; ++k) {
    EXPECT_FLOAT_EQ(images[k], dataset.image(4)[k] / 255.0f);
    EXPECT_FLOAT_EQ(images[4 + k], dataset.image(1)[k] / 255.0f);
  }
}

TEST(BatchAssemblerTest, CropShiftsInZeroPaddingAndFlipMirrors) {
  const Dataset dataset = PatternDataset(1, 3);
  auto assembler = BatchAssembler::Create(dataset);
  ASSERT_TRUE(assembler.ok());
  auto pixel = [&](int64_t y, int64_t x) { return dataset.image(0)[y * 3 + x] / 255.0f; };
  std::vector<float> out(9);
  // Window one pixel right and one down: the image moves up-left, zeros enter bottom and right.
  assembler->WriteImage(0, CropFlip{kAugmentPadding + 1, kAugmentPadding + 1, false}, out.data());
  EXPECT_FLOAT_EQ(out[0], pixel(1, 1));
  EXPECT_FLOAT_EQ(out[4], pixel(2, 2));
  EXPECT_FLOAT_EQ(out[2], 0.0f);
  EXPECT_FLOAT_EQ(out[6], 0.0f);
  // A window off the image entirely is all padding.
  assembler->WriteImage(0, CropFlip{0, 0, false}, out.data());
  EXPECT_EQ(out, std::vector<float>(9, 0.0f));
  // Flip alone mirrors each row.
  assembler->WriteImage(0, CropFlip{kAugmentPadding, kAugmentPadding, true}, out.data());
  for (int64_t y = 0; y < 3; ++y) {
    for (int64_t x = 0; x < 3; ++x) EXPECT_FLOAT_EQ(out[y * 3 + x], pixel(y, 2 - x));
  }
}

TEST(BatchAssemblerTest, AugmentationIsReproducibleAndChangesImages) {
  const Dataset dataset = PatternDataset(16, 8, 3);
  auto assembler = BatchAssembler::Create(dataset);
  ASSERT_TRUE(assembler.ok());
  std::vector<int64_t> indices(16);
  std::iota(indices.begin(), indices.end(), int64_t{0});
  const size_t floats = 16 * dataset.image_bytes();
  auto assemble = [&](uint32_t step) {
    std::vector<float> images(floats);
    std::vector<int32_t> labels(16);
    Rng rng(3, 1, step, RngStream::kAugment);
    assembler->Assemble(indices, &rng, images, labels);
    return images;
  };
  std::vector<float> plain(floats);
  std::vector<int32_t> labels(16);
  assembler->Assemble(indices, nullptr, plain, labels);
  const std::vector<float> augmented = assemble(7);
  EXPECT_EQ(augmented.size(), floats);
  EXPECT_EQ(assemble(7), augmented);
  EXPECT_NE(assemble(8), augmented);
  int changed = 0;
  for (int64_t i = 0; i < 16; ++i) {
    const auto begin = dataset.image_bytes() * i, end = begin + dataset.image_bytes();
    changed +=
        !std::equal(augmented.begin() + begin, augmented.begin() + end, plain.begin() + begin);
  }
  EXPECT_GE(changed, 8);  // the identity (centre crop, no flip) has probability 1/162 per image
}

TEST(DrawCropFlipTest, CoversEveryOffsetAndBothFlips) {
  Rng rng(1, 0, 0, RngStream::kAugment);
  std::set<int64_t> offsets;
  std::set<bool> flips;
  for (int i = 0; i < 500; ++i) {
    const CropFlip crop = DrawCropFlip(rng);
    offsets.insert(crop.dy);
    offsets.insert(crop.dx);
    flips.insert(crop.flip);
  }
  EXPECT_EQ(offsets, (std::set<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(flips.size(), 2u);
}

TEST(BatchAssemblerTest, RejectsMissingOrZeroStatistics) {
  Dataset dataset = PatternDataset(1, 2, 3);
  dataset.stddev = {1.0f, 0.0f, 1.0f};
  EXPECT_THAT(
      std::string(BatchAssembler::Create(dataset).status().message()),
      HasSubstr("pattern: normalisation needs one mean and one positive stddev per channel"));
  dataset.stddev = {1.0f};
  EXPECT_FALSE(BatchAssembler::Create(dataset).ok());
}

TEST(CheckBatchTensorsTest, NamesTheTensorAndTheExpectedShape) {
  const Dataset dataset = PatternDataset(4, 2);
  Tensor images = *Tensor::Create(Shape{4, 1, 2, 2});
  Tensor labels = *Tensor::Create(Shape{4}, DType::kI32);
  EXPECT_TRUE(CheckBatchTensors(dataset, 4, images, labels).ok());
  Tensor wrong_images = *Tensor::Create(Shape{4, 4});
  EXPECT_THAT(std::string(CheckBatchTensors(dataset, 4, wrong_images, labels).message()),
              HasSubstr("images tensor is f32[4, 4]"));
  EXPECT_THAT(std::string(CheckBatchTensors(dataset, 4, wrong_images, labels).message()),
              HasSubstr("expected f32[4, 1, 2, 2] cpu"));
  Tensor float_labels = *Tensor::Create(Shape{4});
  EXPECT_THAT(std::string(CheckBatchTensors(dataset, 4, images, float_labels).message()),
              HasSubstr("labels tensor is f32[4] cpu, expected i32[4] cpu"));
}

}  // namespace
}  // namespace ald
