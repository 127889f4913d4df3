#include "data/cifar10.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "data/gzip_file.h"
#include "data/label_check.h"

namespace ald {

std::vector<std::string> Cifar10FileNames(bool train) {
  if (!train) return {"test_batch.bin"};
  std::vector<std::string> names;
  for (int i = 1; i <= 5; ++i) names.push_back(absl::StrCat("data_batch_", i, ".bin"));
  return names;
}

absl::Status AppendCifar10File(const std::string& path, Cifar10Records& records) {
  ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, ReadMaybeGzippedFile(path));
  const int64_t size = static_cast<int64_t>(bytes.size());
  if (size == 0) return absl::DataLossError(absl::StrCat(path, ": file is empty"));
  if (size % kCifar10RecordBytes != 0) {
    return absl::DataLossError(
        absl::StrCat(path, ": size ", size, " bytes is not a multiple of the ", kCifar10RecordBytes,
                     "-byte record (1 label byte + ", kCifar10ImageBytes,
                     " pixel bytes): ", size / kCifar10RecordBytes, " whole records and ",
                     size % kCifar10RecordBytes, " bytes left over"));
  }
  const int64_t count = size / kCifar10RecordBytes;
  records.pixels.reserve(records.pixels.size() + count * kCifar10ImageBytes);
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* record = bytes.data() + i * kCifar10RecordBytes;
    RETURN_IF_ERROR(CheckLabel(path, i, record[0], kCifar10Classes));
    records.labels.push_back(record[0]);
    records.pixels.insert(records.pixels.end(), record + 1, record + kCifar10RecordBytes);
  }
  return absl::OkStatus();
}

}  // namespace ald
