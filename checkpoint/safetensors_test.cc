#include "checkpoint/safetensors.h"

#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

std::string TestPath(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/safetensors_", name, ".safetensors");
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string LittleEndian64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
  return bytes;
}

// A file by hand: the length (the header's, unless given), the header, the data.
std::string WriteRaw(const std::string& name, const std::string& header, const std::string& data,
                     std::optional<uint64_t> length = std::nullopt) {
  const std::string path = TestPath(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << LittleEndian64(length.value_or(header.size())) << header << data;
  return path;
}

std::string ReadError(const std::string& path) {
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path);
  return file.ok() ? "read fine" : std::string(file.status().message());
}

Tensor F32(Shape shape, std::vector<float> values) { return *Tensor::FromVector(shape, values); }

Tensor Bf16(Shape shape, const std::vector<float>& values) {
  Tensor tensor = *Tensor::Create(shape, DType::kBF16);
  for (size_t i = 0; i < values.size(); ++i) tensor.data<BFloat16>()[i] = BFloat16(values[i]);
  return tensor;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.num_bytes() == b.num_bytes() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()) == 0;
}

TEST(SafetensorsTest, RoundTripsEveryDTypeAndShape) {
  const std::vector<NamedTensor> tensors = {
      {"conv/weight", F32({2, 3}, {1, -2, 3.5f, 1e-30f, -0.0f, 6})},
      {"half", Bf16({5}, {1, 2.5f, -3, 1e10f, 0.1f})},  // 10 bytes: what follows is unaligned
      {"labels", *Tensor::FromInt32s({3, 1, 2}, {0, -1, 2147483647, -2147483647 - 1, 5, 6})},
      {"scalar", F32({}, {42})},
      {"empty", *Tensor::Create({0, 4}, DType::kBF16)},
      {"empty_i32", *Tensor::Create({4, 0}, DType::kI32)},
      {"last", F32({1}, {7})},
  };
  const std::map<std::string, std::string> metadata = {{"model", "resnet20"}, {"step", "12"}};
  const std::string path = TestPath("round_trip");
  ASSERT_TRUE(WriteSafetensors(path, tensors, metadata).ok());

  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata, metadata);
  ASSERT_EQ(file->tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    SCOPED_TRACE(tensors[i].name);
    EXPECT_EQ(file->tensors[i].name, tensors[i].name);
    EXPECT_EQ(file->tensors[i].tensor.dtype(), tensors[i].tensor.dtype());
    EXPECT_EQ(file->tensors[i].tensor.shape(), tensors[i].tensor.shape());
    EXPECT_TRUE(SameBytes(file->tensors[i].tensor, tensors[i].tensor));
  }
  EXPECT_EQ(file->tensors[3].tensor.shape().rank(), 0);
  ASSERT_NE(file->Find("labels"), nullptr);
  EXPECT_EQ(file->Find("labels")->at<int32_t>({1, 0, 1}), -2147483647 - 1);
  EXPECT_EQ(file->Find("missing"), nullptr);
}

TEST(SafetensorsTest, NoTensorsAndNoMetadata) {
  const std::string path = TestPath("nothing");
  ASSERT_TRUE(WriteSafetensors(path, {}, {}).ok());
  EXPECT_EQ(Contents(path), LittleEndian64(8) + "{}      ");
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->tensors.empty());
  EXPECT_TRUE(file->metadata.empty());
}

TEST(SafetensorsTest, HeaderIsByteExactAndPaddedToEightBytes) {
  const std::string path = TestPath("exact");
  ASSERT_TRUE(
      WriteSafetensors(path, {{"w", F32({2}, {1, 2})}, {"b", Bf16({1}, {1})}}, {{"k", "v"}}).ok());
  const std::string bytes = Contents(path);
  const std::string json =
      R"({"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"BF16","shape":[1],"data_offsets":[8,10]}})";
  const uint64_t padded = (json.size() + 7) / 8 * 8;
  ASSERT_NE(padded, json.size());  // the case exercises padding
  ASSERT_EQ(bytes.size(), 8 + padded + 10);
  EXPECT_EQ(bytes.substr(0, 8), LittleEndian64(padded));
  EXPECT_EQ(bytes.substr(8, padded), json + std::string(padded - json.size(), ' '));
  EXPECT_TRUE(json::Parse(bytes.substr(8, padded)).ok());
  const float expected[2] = {1, 2};
  EXPECT_EQ(bytes.substr(8 + padded, 8), std::string(reinterpret_cast<const char*>(expected), 8));
  EXPECT_EQ(bytes.substr(8 + padded + 8), std::string("\x80\x3f", 2));  // bf16 1.0, little-endian
}

// Other writers order fields differently and use whitespace; a header need not be padded.
TEST(SafetensorsTest, ReadsOtherWritersSpelling) {
  const std::string header =
      "{ \"x\" : { \"data_offsets\" : [0, 4], \"shape\" : [], \"dtype\" : \"I32\" },\n"
      "  \"__metadata__\" : { \"format\" : \"pt\" } }";
  const int32_t value = -7;
  const std::string path =
      WriteRaw("other_writer", header, std::string(reinterpret_cast<const char*>(&value), 4));
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata.at("format"), "pt");
  EXPECT_EQ(file->Find("x")->data<int32_t>()[0], -7);
}

TEST(SafetensorsTest, RefusesAFileShorterThanTheLength) {
  const std::string path = TestPath("short");
  std::ofstream(path, std::ios::binary) << "abcde";
  EXPECT_THAT(ReadError(path), HasSubstr("truncated: the file has 5 bytes, fewer than the 8"));
  EXPECT_THAT(ReadError(path), HasSubstr(path));
}

TEST(SafetensorsTest, RefusesAHeaderLongerThanTheFile) {
  const std::string path = WriteRaw("long_header", std::string(100, ' '), "", 1234);
  EXPECT_THAT(ReadError(path), HasSubstr("truncated: header says 1234 bytes, file has 100 after "
                                         "the length"));
}

TEST(SafetensorsTest, RefusesAnAbsurdHeaderLength) {
  const std::string path = WriteRaw("huge_header", "{}", "");
  std::filesystem::resize_file(path, 200'000'016);  // sparse: costs no disk
  {
    std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
    out << LittleEndian64(200'000'000);
  }
  EXPECT_THAT(ReadError(path), HasSubstr("header says 200000000 bytes, more than the 100000000"));
}

TEST(SafetensorsTest, RefusesMalformedJsonNamingTheFileByte) {
  // Byte 23 of the file is byte 15 of the header: the quote where the colon should be.
  const std::string path = WriteRaw("bad_json", R"({"a": {"dtype" "F32"}})", "");
  EXPECT_THAT(ReadError(path), HasSubstr("malformed JSON at byte 23: expected ':', found '\"'"));
  EXPECT_THAT(ReadError(WriteRaw("not_object", "[1, 2]", "")),
              HasSubstr("the header is an array, expected an object"));
}

TEST(SafetensorsTest, RefusesUnknownDType) {
  const std::string path =
      WriteRaw("f16", R"({"fc/weight":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})",
               std::string(4, '\0'));
  EXPECT_THAT(
      ReadError(path),
      HasSubstr("tensor 'fc/weight': unknown dtype 'F16' (this reader knows F32, BF16, I32)"));
}

TEST(SafetensorsTest, RefusesOffsetsThatDoNotMatchTheShape) {
  const std::string path =
      WriteRaw("size", R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",
               std::string(12, '\0'));
  EXPECT_THAT(ReadError(path),
              HasSubstr("tensor 'a': data_offsets [0, 12) hold 12 bytes, but F32[2, 2] needs 16"));
  EXPECT_THAT(
      ReadError(WriteRaw("backwards", R"({"a":{"dtype":"F32","shape":[],"data_offsets":[4,0]}})",
                         std::string(4, '\0'))),
      HasSubstr("tensor 'a': data_offsets must be [begin, end] with begin <= end"));
  EXPECT_THAT(
      ReadError(WriteRaw(
          "overflow",
          R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", "")),
      HasSubstr("tensor 'a': shape [4294967296, 4294967296] has too many elements"));
}

TEST(SafetensorsTest, RefusesMalformedEntries) {
  EXPECT_THAT(ReadError(WriteRaw("negative",
                                 R"({"a":{"dtype":"F32","shape":[-1],)"
                                 R"("data_offsets":[0,0]}})",
                                 "")),
              HasSubstr("tensor 'a': shape must be an array of integers >= 0"));
  EXPECT_THAT(ReadError(WriteRaw("extra_field",
                                 R"({"a":{"dtype":"F32","shape":[],)"
                                 R"("data_offsets":[0,4],"x":1}})",
                                 std::string(4, '\0'))),
              HasSubstr("tensor 'a': unknown field 'x'"));
  EXPECT_THAT(ReadError(WriteRaw("no_shape", R"({"a":{"dtype":"F32","data_offsets":[0,4]}})",
                                 std::string(4, '\0'))),
              HasSubstr("tensor 'a': no 'shape'"));
  EXPECT_THAT(ReadError(WriteRaw("entry_string", R"({"a":"F32"})", "")),
              HasSubstr("tensor 'a': is a string, expected an object"));
  EXPECT_THAT(ReadError(WriteRaw("metadata_int", R"({"__metadata__":{"step":12}})", "")),
              HasSubstr("__metadata__ 'step' is an integer, expected a string"));
}

TEST(SafetensorsTest, RefusesOverlapsAndHoles) {
  const std::string data(16, '\0');
  EXPECT_THAT(ReadError(WriteRaw("overlap",
                                 R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                 data.substr(0, 12))),
              HasSubstr("tensor 'b' data_offsets [4, 12) overlap tensor 'a' [0, 8)"));
  EXPECT_THAT(ReadError(WriteRaw("hole",
                                 R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})",
                                 data)),
              HasSubstr("data bytes [8, 12) before tensor 'b' belong to no tensor"));
  EXPECT_THAT(ReadError(WriteRaw(
                  "trailing", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data)),
              HasSubstr("the file has 8 bytes after the last tensor's end (byte 70)"));
}

TEST(SafetensorsTest, TruncatedDataNamesTheTensorAndTheBytes) {
  const std::string path = TestPath("truncated");
  ASSERT_TRUE(
      WriteSafetensors(
          path, {{"fc/bias", F32({2}, {1, 2})}, {"fc/weight", *Tensor::Create({10, 64})}}, {})
          .ok());
  const uint64_t full = std::filesystem::file_size(path);
  const uint64_t data_start = full - 8 - 2560;
  std::filesystem::resize_file(path, full - 100);
  EXPECT_THAT(ReadError(path), HasSubstr(absl::StrCat("truncated at byte ", full - 100,
                                                      ": tensor 'fc/weight' needs "
                                                      "bytes [",
                                                      data_start + 8, ", ", full, ")")));
}

TEST(SafetensorsTest, MissingFileIsNotFound) {
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(TestPath("does_not_exist"));
  EXPECT_TRUE(absl::IsNotFound(file.status())) << file.status();
}

TEST(SafetensorsTest, RefusesToWriteWhatCannotBeRead) {
  const std::string path = TestPath("unwritable");
  const Tensor t = F32({1}, {1});
  EXPECT_THAT(WriteSafetensors(path, {{"a", t}, {"a", t}}, {}).message(),
              HasSubstr("two tensors are named 'a'"));
  EXPECT_THAT(WriteSafetensors(path, {{"__metadata__", t}}, {}).message(),
              HasSubstr("may not be named __metadata__"));
  EXPECT_THAT(WriteSafetensors(path, {{"", t}}, {}).message(), HasSubstr("empty name"));
  EXPECT_THAT(WriteSafetensors(path, {{"a", Tensor()}}, {}).message(),
              HasSubstr("tensor 'a' is undefined"));
  EXPECT_THAT(WriteSafetensors(path, {{"bad\xff", t}}, {}).message(),
              HasSubstr("must be valid UTF-8"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

// The write fails (a directory squats on the temporary's name, which even root cannot write
// through): the previous file must still read back unchanged.
TEST(SafetensorsTest, FailedWriteKeepsThePreviousFile) {
  const std::string path = TestPath("atomic");
  ASSERT_TRUE(WriteSafetensors(path, {{"w", F32({2}, {1, 2})}}, {{"step", "1"}}).ok());
  const std::string before = Contents(path);
  ASSERT_TRUE(std::filesystem::create_directory(TempPathFor(path)));
  EXPECT_FALSE(WriteSafetensors(path, {{"w", F32({3}, {4, 5, 6})}}, {{"step", "2"}}).ok());
  std::filesystem::remove(TempPathFor(path));
  EXPECT_EQ(Contents(path), before);
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata.at("step"), "1");
  EXPECT_EQ(file->Find("w")->shape(), Shape({2}));
}

}  // namespace
}  // namespace ald
