#include "data/cifar10.h"

#include <string>

#include "data/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::Cifar10FileBytes;
using ::ald::testing::TestPath;
using ::ald::testing::WriteTestFile;
using ::testing::HasSubstr;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(Cifar10Test, FileNamesFollowTheBinaryRelease) {
  EXPECT_EQ(Cifar10FileNames(true),
            (std::vector<std::string>{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                      "data_batch_4.bin", "data_batch_5.bin"}));
  EXPECT_EQ(Cifar10FileNames(false), (std::vector<std::string>{"test_batch.bin"}));
}

TEST(Cifar10Test, AppendsRecordsInOrder) {
  const std::string first = TestPath("data_batch_1.bin"), second = TestPath("data_batch_2.bin");
  ASSERT_TRUE(WriteTestFile(first, Cifar10FileBytes({3, 9}), false).ok());
  ASSERT_TRUE(WriteTestFile(second, Cifar10FileBytes({0}), false).ok());
  // The CHW layout: byte k of a record's image is channel k / 1024, row (k / 32) % 32.
  std::vector<uint8_t> bytes = Cifar10FileBytes({1});
  for (int64_t k = 0; k < kCifar10ImageBytes; ++k)
    bytes[1 + k] = static_cast<uint8_t>(k / 1024 * 100 + k % 7);
  const std::string third = TestPath("data_batch_3.bin");
  ASSERT_TRUE(WriteTestFile(third, bytes, false).ok());

  Cifar10Records records;
  ASSERT_TRUE(AppendCifar10File(first, records).ok());
  ASSERT_TRUE(AppendCifar10File(second, records).ok());
  ASSERT_TRUE(AppendCifar10File(third, records).ok());
  EXPECT_EQ(records.labels, (std::vector<int32_t>{3, 9, 0, 1}));
  ASSERT_EQ(records.pixels.size(), static_cast<size_t>(4 * kCifar10ImageBytes));
  EXPECT_EQ(records.pixels[0], 0);
  EXPECT_EQ(records.pixels[kCifar10ImageBytes + 5], 1);
  EXPECT_EQ(records.pixels[2 * kCifar10ImageBytes + 3071], 0);
  const uint8_t* image = records.pixels.data() + 3 * kCifar10ImageBytes;
  EXPECT_EQ(image[1024 * 2 + 5], 200 + (1024 * 2 + 5) % 7);  // blue channel
}

TEST(Cifar10Test, SizeNotAMultipleOfTheRecordIsAnError) {
  const std::string path = TestPath("data_batch_1.bin");
  std::vector<uint8_t> bytes = Cifar10FileBytes({1, 2, 3});
  bytes.resize(bytes.size() + 5);
  ASSERT_TRUE(WriteTestFile(path, bytes, false).ok());
  Cifar10Records records;
  const absl::Status status = AppendCifar10File(path, records);
  EXPECT_EQ(Message(status), path +
                                 ": size 9224 bytes is not a multiple of the 3073-byte record "
                                 "(1 label byte + 3072 pixel bytes): 3 whole records and 5 "
                                 "bytes left over");
}

TEST(Cifar10Test, LabelOutOfRangeNamesItsIndex) {
  const std::string path = TestPath("test_batch.bin");
  ASSERT_TRUE(WriteTestFile(path, Cifar10FileBytes({4, 10, 2}), false).ok());
  Cifar10Records records;
  EXPECT_EQ(Message(AppendCifar10File(path, records)),
            path + ": label 10 at index 1 is outside [0, 10)");
}

TEST(Cifar10Test, EmptyAndMissingFilesAreErrors) {
  const std::string empty = TestPath("data_batch_4.bin");
  ASSERT_TRUE(WriteTestFile(empty, {}, false).ok());
  Cifar10Records records;
  EXPECT_EQ(Message(AppendCifar10File(empty, records)), empty + ": file is empty");
  const std::string missing = TestPath("data_batch_5.bin");
  const absl::Status status = AppendCifar10File(missing, records);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(status), HasSubstr(missing));
}

}  // namespace
}  // namespace ald
