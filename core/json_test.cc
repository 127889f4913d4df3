#include "core/json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald::json {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<Value> value = Parse(text);
  return value.ok() ? "parsed" : std::string(value.status().message());
}

TEST(JsonTest, ParsesAHeaderKeepingMemberOrder) {
  absl::StatusOr<Value> value = Parse(
      R"( {"b": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
           "a": {"k": "v"}, "z": []}   )");
  ASSERT_TRUE(value.ok()) << value.status();
  ASSERT_EQ(value->object.size(), 3u);
  EXPECT_EQ(value->object[0].first, "b");
  EXPECT_EQ(value->object[1].first, "a");
  EXPECT_EQ(value->object[2].first, "z");
  const Value& b = value->object[0].second;
  EXPECT_EQ(b.object[0].second.string, "F32");
  ASSERT_EQ(b.object[1].second.array.size(), 2u);
  EXPECT_EQ(b.object[1].second.array[1].integer, 3);
  EXPECT_EQ(b.object[2].second.array[1].integer, 24);
  EXPECT_TRUE(value->object[2].second.array.empty());
}

TEST(JsonTest, SerializeThenParseIsTheIdentity) {
  Value root = Value::Object();
  Value meta = Value::Object();
  meta.Add("quote\"back\\slash", Value::String("tab\tnewline\n\x01 caf\xc3\xa9 \xf0\x9f\x98\x80"));
  root.Add("__metadata__", std::move(meta));
  root.Add("t", Value::IntegerArray({0, -1, INT64_MAX, INT64_MIN}));
  const std::string text = Serialize(root);
  EXPECT_EQ(text.find(' '), text.find(" caf"));  // compact: no space but the one in the value
  absl::StatusOr<Value> parsed = Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << " in " << text;
  EXPECT_EQ(Serialize(*parsed), text);
  EXPECT_EQ(parsed->object[0].second.object[0].first, "quote\"back\\slash");
  EXPECT_EQ(parsed->object[1].second.array[3].integer, INT64_MIN);
}

TEST(JsonTest, QuoteEscapesControlCharacters) {
  EXPECT_EQ(Quote("a\"b\\c\n\x1f"), R"("a\"b\\c\n\u001f")");
}

TEST(JsonTest, DecodesUnicodeEscapesAndSurrogatePairs) {
  absl::StatusOr<Value> value = Parse(R"("\u00e9\ud83d\ude00\/")");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->string, "\xc3\xa9\xf0\x9f\x98\x80/");
}

TEST(JsonTest, ErrorsGiveTheBytePosition) {
  EXPECT_THAT(ErrorOf(R"({"a" 1})"), HasSubstr("at byte 5: expected ':', found '1'"));
  EXPECT_THAT(ErrorOf(R"({"a": 1,})"), HasSubstr("at byte 8: expected a key, found '}'"));
  EXPECT_THAT(ErrorOf(R"({"a": [1, 2})"), HasSubstr("at byte 11: expected ']', found '}'"));
  EXPECT_THAT(ErrorOf(R"({"a": 1} x)"), HasSubstr("at byte 9: unexpected text after"));
  EXPECT_THAT(ErrorOf(R"({"a": "x)"), HasSubstr("at byte 6: unterminated string"));
  // The base shifts positions into the caller's file.
  absl::StatusOr<Value> shifted = Parse("{,}", 8);
  ASSERT_FALSE(shifted.ok());
  EXPECT_THAT(shifted.status().message(), HasSubstr("at byte 9:"));
}

TEST(JsonTest, RejectsWhatAHeaderNeverHolds) {
  EXPECT_THAT(ErrorOf("1.5"), HasSubstr("only integers"));
  EXPECT_THAT(ErrorOf("1e3"), HasSubstr("only integers"));
  EXPECT_THAT(ErrorOf("true"), HasSubstr("found 't'"));
  EXPECT_THAT(ErrorOf("null"), HasSubstr("found 'n'"));
  EXPECT_THAT(ErrorOf("012"), HasSubstr("leading zeros"));
  EXPECT_THAT(ErrorOf("-"), HasSubstr("expected a digit"));
  EXPECT_THAT(ErrorOf("9223372036854775808"), HasSubstr("out of the 64-bit range"));
  EXPECT_EQ(ErrorOf("-9223372036854775808"), "parsed");
  EXPECT_THAT(ErrorOf(R"({"a": 1, "a": 2})"), HasSubstr("at byte 9: duplicate key \"a\""));
  EXPECT_THAT(ErrorOf(""), HasSubstr("found the end of the text"));
  EXPECT_THAT(ErrorOf("{} {}"), HasSubstr("unexpected text"));
}

TEST(JsonTest, RejectsBadStrings) {
  EXPECT_THAT(ErrorOf("\"a\nb\""), HasSubstr("unescaped control character 0x0a"));
  EXPECT_THAT(ErrorOf(R"("\x")"), HasSubstr("unknown escape \\'x'"));
  EXPECT_THAT(ErrorOf(R"("\u12")"), HasSubstr("truncated \\u escape"));
  EXPECT_THAT(ErrorOf(R"("\ud83d")"), HasSubstr("high surrogate without a low surrogate"));
  EXPECT_THAT(ErrorOf(R"("\ude00")"), HasSubstr("lone low surrogate"));
  EXPECT_THAT(ErrorOf("\"\xff\""), HasSubstr("at byte 1: invalid UTF-8"));
  EXPECT_THAT(ErrorOf("\"\xc0\xaf\""), HasSubstr("invalid UTF-8"));      // overlong '/'
  EXPECT_THAT(ErrorOf("\"\xed\xa0\x80\""), HasSubstr("invalid UTF-8"));  // encoded surrogate
  EXPECT_THAT(ErrorOf("\"\xe2\x82\""), HasSubstr("invalid UTF-8"));      // cut short
}

TEST(JsonTest, LimitsNesting) {
  EXPECT_EQ(ErrorOf(std::string(16, '[') + std::string(16, ']')), "parsed");
  EXPECT_THAT(ErrorOf(std::string(100000, '[')), HasSubstr("nested deeper than 16"));
}

}  // namespace
}  // namespace ald::json
