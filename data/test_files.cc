#include "data/test_files.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "data/cifar10.h"
#include "gtest/gtest.h"

namespace ald::testing {

std::string TestPath(const std::string& name) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    absl::StrCat(test->test_suite_name(), ".", test->name());
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::vector<uint8_t> IdxFileBytes(uint32_t magic, const std::vector<uint32_t>& dims,
                                  const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes;
  auto append_big_endian = [&bytes](uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<uint8_t>(value >> shift));
  };
  append_big_endian(magic);
  for (uint32_t dim : dims) append_big_endian(dim);
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

std::vector<uint8_t> Cifar10FileBytes(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < labels.size(); ++i) {
    bytes.push_back(labels[i]);
    bytes.insert(bytes.end(), kCifar10ImageBytes, static_cast<uint8_t>(i));
  }
  return bytes;
}

absl::Status WriteTestFile(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip) {
  if (!gzip) {
    std::ofstream file(path, std::ios::binary);
    file.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return file.good() ? absl::OkStatus()
                       : absl::InternalError(absl::StrCat(path, ": write failed"));
  }
  gzFile file = gzopen(path.c_str(), "wb");
  if (file == nullptr) return absl::InternalError(absl::StrCat(path, ": gzopen failed"));
  const int written =
      bytes.empty() ? 0 : gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  const int closed = gzclose(file);
  if (written != static_cast<int>(bytes.size()) || closed != Z_OK) {
    return absl::InternalError(absl::StrCat(path, ": gzwrite failed"));
  }
  return absl::OkStatus();
}

}  // namespace ald::testing
