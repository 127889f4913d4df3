#include "data/pad.h"

#include "gtest/gtest.h"

namespace ald {
namespace {

Dataset TwoImages() {
  Dataset dataset;
  dataset.name = "tiny/train";
  dataset.count = 2;
  dataset.channels = 1;
  dataset.height = 2;
  dataset.width = 3;
  dataset.num_classes = 2;
  dataset.pixels = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  dataset.labels = {0, 1};
  dataset.mean = {0.5f};
  dataset.stddev = {0.25f};
  return dataset;
}

TEST(PadImagesTest, AddsAZeroBorderAroundEveryImage) {
  absl::StatusOr<Dataset> padded = PadImages(TwoImages(), 1);
  ASSERT_TRUE(padded.ok()) << padded.status();
  EXPECT_EQ(padded->height, 4);
  EXPECT_EQ(padded->width, 5);
  ASSERT_EQ(padded->pixels.size(), 2u * 4 * 5);
  const std::vector<uint8_t> second(padded->image(1), padded->image(1) + 20);
  EXPECT_EQ(second, (std::vector<uint8_t>{0, 0, 0,  0,  0,  //
                                          0, 7, 8,  9,  0,  //
                                          0, 10, 11, 12, 0,  //
                                          0, 0, 0,  0,  0}));
  EXPECT_EQ(padded->image(0)[6], 1);
  EXPECT_EQ(padded->labels, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(padded->mean, std::vector<float>{0.5f});
}

TEST(PadImagesTest, ZeroIsTheIdentityAndNegativeIsAnError) {
  absl::StatusOr<Dataset> same = PadImages(TwoImages(), 0);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->pixels, TwoImages().pixels);
  absl::StatusOr<Dataset> bad = PadImages(TwoImages(), -1);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--pad"), std::string::npos);
}

}  // namespace
}  // namespace ald
