#include "core/rng.h"

#include <cmath>
#include <vector>

#include "core/tensor.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

// Known-answer vectors published with Random123 (kat_vectors, philox4x32 with 10 rounds).
TEST(PhiloxTest, MatchesPublishedKnownAnswers) {
  EXPECT_EQ(Philox4x32({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(Philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                       {0xffffffffu, 0xffffffffu}),
            (std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(Philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                       {0xa4093822u, 0x299f31d0u}),
            (std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(RngTest, IsAPureFunctionOfItsCoordinates) {
  Rng a(42, 3, 7, RngStream::kDropout);
  Rng b(42, 3, 7, RngStream::kDropout);
  std::vector<uint32_t> first;
  for (int i = 0; i < 11; ++i) first.push_back(a.NextU32());
  for (int i = 0; i < 11; ++i) EXPECT_EQ(b.NextU32(), first[i]);
  // Seeking reproduces any position without replaying the ones before it.
  Rng c(42, 3, 7, RngStream::kDropout);
  c.Seek(9);
  EXPECT_EQ(c.NextU32(), first[9]);
}

TEST(RngTest, CoordinatesGiveDifferentStreams) {
  const uint32_t base = Rng(42, 0, 0, RngStream::kInit).NextU32();
  EXPECT_NE(Rng(43, 0, 0, RngStream::kInit).NextU32(), base);
  EXPECT_NE(Rng(42, 1, 0, RngStream::kInit).NextU32(), base);
  EXPECT_NE(Rng(42, 0, 1, RngStream::kInit).NextU32(), base);
  EXPECT_NE(Rng(42, 0, 0, RngStream::kShuffle).NextU32(), base);
}

TEST(RngTest, UniformAndNormalHaveTheRightMoments) {
  Rng rng(7, 0, 0, RngStream::kTest);
  const int n = 200000;
  double sum = 0, sum_sq = 0, normal_sum = 0, normal_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_sq += u * u;
    const double z = rng.Normal();
    normal_sum += z;
    normal_sq += z * z;
  }
  // Standard errors are ~0.0007 (uniform mean) and ~0.003 (normal variance); allow 5 of them.
  EXPECT_NEAR(sum / n, 0.5, 0.0035);
  EXPECT_NEAR(sum_sq / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
  EXPECT_NEAR(normal_sum / n, 0.0, 0.012);
  EXPECT_NEAR(normal_sq / n, 1.0, 0.016);
}

TEST(RngTest, BelowIsInRangeAndCoversIt) {
  Rng rng(1, 0, 0, RngStream::kTest);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const uint32_t value = rng.Below(7);
    ASSERT_LT(value, 7u);
    ++counts[value];
  }
  for (int count : counts) EXPECT_NEAR(count, 10000, 500);  // 5 standard deviations
}

TEST(RngTest, FillsTensors) {
  absl::StatusOr<Tensor> tensor = Tensor::Create(Shape{1000});
  ASSERT_TRUE(tensor.ok());
  Rng rng(5, 0, 0, RngStream::kInit);
  FillUniform(*tensor, -2, 2, rng);
  float low = 10, high = -10;
  for (float v : tensor->values<float>()) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  EXPECT_GE(low, -2);
  EXPECT_LT(high, 2);
  EXPECT_LT(low, -1.9);
  EXPECT_GT(high, 1.9);
}

}  // namespace
}  // namespace ald
