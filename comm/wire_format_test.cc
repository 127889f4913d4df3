#include "comm/wire_format.h"

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <span>
#include <vector>

#include "core/bfloat16.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

float FromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

uint32_t BitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

std::vector<float> RoundTrip(const std::vector<float>& values) {
  std::vector<uint16_t> words(values.size());
  PackBf16(values, words);
  std::vector<float> back(values.size());
  UnpackBf16(words, back);
  return back;
}

TEST(WireFormatTest, ParsesTheFlagValuesAndNamesTheChoicesOtherwise) {
  EXPECT_EQ(*ParseWireFormat("fp32"), WireFormat::kFp32);
  EXPECT_EQ(*ParseWireFormat("bf16"), WireFormat::kBf16);
  EXPECT_EQ(*ParseWireFormat("bf16-nearest"), WireFormat::kBf16Nearest);
  const auto bad = ParseWireFormat("fp16");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fp32, bf16 or bf16-nearest"), std::string::npos);
  EXPECT_STREQ(WireFormatName(WireFormat::kBf16), "bf16");
  EXPECT_STREQ(WireFormatName(WireFormat::kBf16Nearest), "bf16-nearest");
  EXPECT_EQ(WireBytesPerFloat(WireFormat::kFp32), 4u);
  EXPECT_EQ(WireBytesPerFloat(WireFormat::kBf16), 2u);
  EXPECT_EQ(WireBytesPerFloat(WireFormat::kBf16Nearest), 2u);
}

TEST(WireFormatTest, ValuesThatFitInBf16RoundTripExactly) {
  const std::vector<float> exact = {0.0f, -0.0f, 1.0f, -2.5f, 0.15625f, 65536.0f,
                                    FromBits(0x00010000u) /* the smallest bf16 subnormal */,
                                    FromBits(0x7f7f0000u) /* the largest finite bf16 */};
  const std::vector<float> back = RoundTrip(exact);
  for (size_t i = 0; i < exact.size(); ++i) EXPECT_EQ(BitsOf(back[i]), BitsOf(exact[i])) << i;
}

TEST(WireFormatTest, RoundsToNearestAndTiesToEven) {
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the tie goes to the even mantissa (1).
  // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
  // Just above a tie rounds up; just below rounds down.
  const std::vector<float> values = {
      FromBits(0x3f808000u), FromBits(0x3f818000u), FromBits(0x3f808001u),
      FromBits(0x3f807fffu), FromBits(0xbf808001u), 0.1f};
  const std::vector<float> expected = {
      FromBits(0x3f800000u), FromBits(0x3f820000u), FromBits(0x3f810000u),
      FromBits(0x3f800000u), FromBits(0xbf810000u), FromBits(0x3dcd0000u)};
  const std::vector<float> back = RoundTrip(values);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(BitsOf(back[i]), BitsOf(expected[i])) << "value " << i;
    EXPECT_LE(std::abs(back[i] - values[i]), std::abs(values[i]) * 0x1p-8f) << "value " << i;
  }
}

TEST(WireFormatTest, InfinitiesStayAndNaNsStayNaNsAndOverflowGoesToInfinity) {
  const float inf = std::numeric_limits<float>::infinity();
  // A NaN whose payload lies only in the low half must not become an infinity.
  const std::vector<float> values = {inf, -inf, std::numeric_limits<float>::quiet_NaN(),
                                     FromBits(0x7f800001u), FromBits(0xff800001u),
                                     std::numeric_limits<float>::max(),
                                     -std::numeric_limits<float>::max()};
  const std::vector<float> back = RoundTrip(values);
  EXPECT_EQ(back[0], inf);
  EXPECT_EQ(back[1], -inf);
  EXPECT_TRUE(std::isnan(back[2]));
  EXPECT_TRUE(std::isnan(back[3]));
  EXPECT_TRUE(std::isnan(back[4]));
  EXPECT_TRUE(std::signbit(back[4]));
  EXPECT_EQ(back[5], inf);   // past bf16's largest finite value (and past its halfway point)
  EXPECT_EQ(back[6], -inf);
}

TEST(WireFormatTest, PackIsCoreBFloat16BitForBit) {
  // The same rule as the bf16 tensors of core/: every 2^16-th bit pattern, and its neighbours.
  std::vector<float> values;
  for (uint64_t high = 0; high < (1u << 16); high += 7) {
    for (uint32_t low : {0x0000u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu}) {
      values.push_back(FromBits(static_cast<uint32_t>(high << 16) | low));
    }
  }
  std::vector<uint16_t> words(values.size());
  PackBf16(values, words);
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(words[i], BFloat16(values[i]).bits) << std::hex << BitsOf(values[i]);
  }
}

std::vector<float> StochasticRoundTrip(const std::vector<float>& values, WireRounding rounding) {
  std::vector<uint16_t> words(values.size());
  PackForWire(WireFormat::kBf16, values, words, rounding);
  std::vector<float> back(values.size());
  UnpackBf16(words, back);
  return back;
}

// The point of stochastic rounding (--wire=bf16): E[b(v)] = v. v lies 0.3 of the way from one
// bf16 value to the next, so 30% of the elements must round up (away from zero) and the mean
// must be v, within 4 standard errors of 100 000 draws (the key fixes the draws: the test
// cannot flake). Nearest even would round them all down, a bias of 0.3 spacings.
TEST(WireFormatTest, StochasticRoundingIsUnbiasedAndPicksOneOfTheTwoNeighbours) {
  for (const float sign : {1.0f, -1.0f}) {
    const float low = sign * 1.0f, high = sign * (1.0f + 0x1p-7f);
    const float v = low + 0.3f * (high - low);
    const size_t n = 100000;
    const WireRounding rounding{WireRoundingKey(4, 2, 1, WireStream::kModel), 0};
    const std::vector<float> back = StochasticRoundTrip(std::vector<float>(n, v), rounding);
    double sum = 0;
    size_t up = 0;
    for (float b : back) {
      ASSERT_TRUE(b == low || b == high) << b;
      up += b == high;
      sum += b;
    }
    const double p = static_cast<double>(up) / n, se = std::sqrt(0.3 * 0.7 / n);
    EXPECT_NEAR(p, 0.3, 4 * se) << "sign " << sign;
    EXPECT_NEAR(sum / n, v, 4 * se * 0x1p-7) << "sign " << sign;
  }
}

TEST(WireFormatTest, StochasticRoundingKeepsBf16NumbersInfinitiesAndNaNs) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {0.0f, -0.0f, 1.0f, -2.5f, FromBits(0x7f7f0000u), inf, -inf,
                                     std::numeric_limits<float>::quiet_NaN(),
                                     FromBits(0x7f800001u)};
  for (uint64_t key = 0; key < 50; ++key) {
    const std::vector<float> back = StochasticRoundTrip(values, {key, key * 7});
    for (size_t i = 0; i < 7; ++i) EXPECT_EQ(BitsOf(back[i]), BitsOf(values[i])) << i;
    EXPECT_TRUE(std::isnan(back[7]));
    EXPECT_TRUE(std::isnan(back[8]));  // a NaN with its payload in the low half stays a NaN
  }
}

// The bits depend on (key, the element's index in the whole buffer) only: packing in pieces (as
// buckets and chunks do) gives the bits of one pack, and the same key gives the same bits
// whoever packs (in-process and MPI ranks alike); seed, step, sender and stream each change them.
TEST(WireFormatTest, StochasticBitsFollowTheKeyAndTheIndexOnly) {
  std::vector<float> values(1001);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.1f * static_cast<float>(i));
  const uint64_t key = WireRoundingKey(1, 10, 3, WireStream::kModel);
  std::vector<uint16_t> whole(values.size()), pieces(values.size());
  PackForWire(WireFormat::kBf16, values, whole, {key, 0});
  const size_t cuts[] = {0, 3, 500, 997, values.size()};
  for (size_t piece = 0; piece + 1 < std::size(cuts); ++piece) {
    const size_t begin = cuts[piece], size = cuts[piece + 1] - cuts[piece];
    PackForWire(WireFormat::kBf16, std::span(values).subspan(begin, size),
                std::span(pieces).subspan(begin, size), {key, begin});
  }
  EXPECT_EQ(whole, pieces);
  const uint64_t others[] = {WireRoundingKey(2, 10, 3, WireStream::kModel),
                             WireRoundingKey(1, 11, 3, WireStream::kModel),
                             WireRoundingKey(1, 10, 4, WireStream::kModel),
                             WireRoundingKey(1, 10, 3, WireStream::kPreStepModel)};
  for (uint64_t other : others) {
    EXPECT_NE(other, key);
    std::vector<uint16_t> words(values.size());
    PackForWire(WireFormat::kBf16, values, words, {other, 0});
    EXPECT_NE(words, whole);
  }
  // bf16-nearest ignores the key: it is PackBf16.
  std::vector<uint16_t> nearest(values.size()), expected(values.size());
  PackForWire(WireFormat::kBf16Nearest, values, nearest, {key, 0});
  PackBf16(values, expected);
  EXPECT_EQ(nearest, expected);
}

}  // namespace
}  // namespace ald
