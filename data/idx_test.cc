#include "data/idx.h"

#include <string>

#include "data/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::IdxFileBytes;
using ::ald::testing::TestPath;
using ::ald::testing::WriteTestFile;
using ::testing::HasSubstr;

std::string WriteIdx(const std::string& name, uint32_t magic, const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data, bool gzip = true) {
  const std::string path = TestPath(name);
  EXPECT_TRUE(WriteTestFile(path, IdxFileBytes(magic, dims, data), gzip).ok());
  return path;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

class IdxFormatTest : public ::testing::TestWithParam<bool> {};  // gzip'd or plain

TEST_P(IdxFormatTest, ReadsImagesAndLabels) {
  const std::vector<uint8_t> pixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
  const std::string images_path =
      WriteIdx("images", kIdxImagesMagic, {2, 2, 3}, pixels, GetParam());
  const std::string labels_path = WriteIdx("labels", kIdxLabelsMagic, {2}, {9, 0}, GetParam());

  auto images = ReadIdxImages(images_path);
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->count, 2);
  EXPECT_EQ(images->rows, 2);
  EXPECT_EQ(images->cols, 3);
  EXPECT_EQ(images->pixels, pixels);

  auto labels = ReadIdxLabels(labels_path, 10);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(*labels, (std::vector<int32_t>{9, 0}));
}

INSTANTIATE_TEST_SUITE_P(GzipOrPlain, IdxFormatTest, ::testing::Bool());

TEST(IdxTest, WrongMagicNamesBothNumbers) {
  const std::string path = WriteIdx("labels_not_images.gz", kIdxLabelsMagic, {1}, {3});
  auto images = ReadIdxImages(path);
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(Message(images.status()),
            path + ": magic number 0x00000801, expected 0x00000803 (IDX unsigned-byte images)");
}

TEST(IdxTest, TruncatedImagesSayWhatTheHeaderPromised) {
  const std::string path =
      WriteIdx("short.gz", kIdxImagesMagic, {60, 28, 28}, std::vector<uint8_t>(1000));
  auto images = ReadIdxImages(path);
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(Message(images.status()),
            path +
                ": truncated: header promises 60 images of 28x28 (47040 bytes), file has 1000 "
                "bytes of data");
}

TEST(IdxTest, TruncatedHeaderIsAnError) {
  const std::string path = TestPath("header_only.gz");
  std::vector<uint8_t> bytes = IdxFileBytes(kIdxImagesMagic, {5, 28}, {});  // cols missing
  ASSERT_TRUE(WriteTestFile(path, bytes, true).ok());
  auto images = ReadIdxImages(path);
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(Message(images.status()),
            path + ": truncated: file has 12 bytes, an IDX images header needs 16");
}

TEST(IdxTest, TooShortForAMagicNumber) {
  const std::string path = TestPath("tiny");
  ASSERT_TRUE(WriteTestFile(path, {0, 0}, false).ok());
  auto labels = ReadIdxLabels(path, 10);
  ASSERT_FALSE(labels.ok());
  EXPECT_EQ(Message(labels.status()),
            path + ": file has 2 bytes, too short for an IDX labels header");
}

TEST(IdxTest, TrailingBytesAreAnError) {
  const std::string path = WriteIdx("long.gz", kIdxLabelsMagic, {4}, {1, 2, 3, 4, 5, 6, 7});
  auto labels = ReadIdxLabels(path, 10);
  ASSERT_FALSE(labels.ok());
  EXPECT_EQ(
      Message(labels.status()),
      path + ": header promises 4 labels (4 bytes), file has 7 bytes of data (3 trailing bytes)");
}

TEST(IdxTest, TruncatedLabels) {
  const std::string path = WriteIdx("few_labels", kIdxLabelsMagic, {6}, {1, 2}, false);
  auto labels = ReadIdxLabels(path, 10);
  ASSERT_FALSE(labels.ok());
  EXPECT_EQ(Message(labels.status()),
            path + ": truncated: header promises 6 labels (6 bytes), file has 2 bytes of data");
}

TEST(IdxTest, HugeHeaderIsTruncationNotAnAllocation) {
  const std::string path =
      WriteIdx("huge.gz", kIdxImagesMagic, {0xffffffffu, 0xffffffffu, 0xffffffffu}, {1, 2});
  auto images = ReadIdxImages(path);
  ASSERT_FALSE(images.ok());
  EXPECT_THAT(Message(images.status()),
              HasSubstr(path + ": truncated: header promises 4294967295 images"));
}

TEST(IdxTest, LabelOutOfRangeNamesItsIndex) {
  const std::string path = WriteIdx("labels.gz", kIdxLabelsMagic, {7}, {0, 1, 2, 3, 9, 12, 4});
  auto labels = ReadIdxLabels(path, 10);
  ASSERT_FALSE(labels.ok());
  EXPECT_EQ(Message(labels.status()), path + ": label 12 at index 5 is outside [0, 10)");
}

TEST(IdxTest, MissingFileIsNamed) {
  const std::string path = TestPath("train-images-idx3-ubyte.gz");
  auto images = ReadIdxImages(path);
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(images.status()), HasSubstr(path));
}

}  // namespace
}  // namespace ald
