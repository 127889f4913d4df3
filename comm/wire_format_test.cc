#include "comm/wire_format.h"

#include <cmath>
#include <cstring>
#include <limits>
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
  const auto bad = ParseWireFormat("fp16");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fp32 or bf16"), std::string::npos);
  EXPECT_STREQ(WireFormatName(WireFormat::kBf16), "bf16");
  EXPECT_EQ(WireBytesPerFloat(WireFormat::kFp32), 4u);
  EXPECT_EQ(WireBytesPerFloat(WireFormat::kBf16), 2u);
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

}  // namespace
}  // namespace ald
