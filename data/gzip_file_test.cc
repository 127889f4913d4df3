#include "data/gzip_file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "data/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::TestPath;
using ::ald::testing::WriteTestFile;
using ::testing::HasSubstr;

std::vector<uint8_t> SampleBytes(size_t count) {
  std::vector<uint8_t> bytes(count);
  for (size_t i = 0; i < count; ++i) bytes[i] = static_cast<uint8_t>((i * 7919) ^ (i >> 3));
  return bytes;
}

TEST(GzipFileTest, ReadsGzipAndPlainFilesAlike) {
  const std::vector<uint8_t> bytes = SampleBytes(3 << 20);  // more than one read chunk
  const std::string gzipped = TestPath("sample.gz"), plain = TestPath("sample");
  ASSERT_TRUE(WriteTestFile(gzipped, bytes, /*gzip=*/true).ok());
  ASSERT_TRUE(WriteTestFile(plain, bytes, /*gzip=*/false).ok());
  // The .gz file really is gzip (magic 1f 8b), so both paths through zlib are exercised.
  std::ifstream raw(gzipped, std::ios::binary);
  EXPECT_EQ(raw.get(), 0x1f);
  EXPECT_EQ(raw.get(), 0x8b);
  EXPECT_NE(std::filesystem::file_size(gzipped), bytes.size());

  auto from_gzip = ReadMaybeGzippedFile(gzipped);
  auto from_plain = ReadMaybeGzippedFile(plain);
  ASSERT_TRUE(from_gzip.ok()) << from_gzip.status();
  ASSERT_TRUE(from_plain.ok()) << from_plain.status();
  EXPECT_EQ(*from_gzip, bytes);
  EXPECT_EQ(*from_plain, bytes);
}

TEST(GzipFileTest, ReadsAnEmptyFile) {
  const std::string path = TestPath("empty");
  ASSERT_TRUE(WriteTestFile(path, {}, /*gzip=*/false).ok());
  auto bytes = ReadMaybeGzippedFile(path);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(bytes->empty());
}

TEST(GzipFileTest, MissingFileIsNotFoundAndNamed) {
  const std::string path = TestPath("absent.gz");
  auto bytes = ReadMaybeGzippedFile(path);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(bytes.status().message()), path + ": no such file");
}

TEST(GzipFileTest, TruncatedGzipStreamIsAnError) {
  const std::string path = TestPath("cut.gz");
  ASSERT_TRUE(WriteTestFile(path, SampleBytes(100000), /*gzip=*/true).ok());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  auto bytes = ReadMaybeGzippedFile(path);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr(path + ": corrupt gzip stream"));
}

TEST(GzipFileTest, DirectoryIsAnError) {
  const std::string path = TestPath("a_directory");
  std::filesystem::create_directories(path);
  auto bytes = ReadMaybeGzippedFile(path);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(std::string(bytes.status().message()), HasSubstr(path + ": "));
}

}  // namespace
}  // namespace ald
