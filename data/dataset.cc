#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"
#include "data/cifar10.h"
#include "data/idx.h"
#include "data/synthetic.h"

namespace ald {
namespace {

constexpr int kFashionMnistClasses = 10;

// The normalisation constants everyone publishes for these datasets (training-set statistics).
constexpr float kFashionMnistMean = 0.2860f, kFashionMnistStddev = 0.3530f;
constexpr float kCifar10Mean[] = {0.4914f, 0.4822f, 0.4465f};
constexpr float kCifar10Stddev[] = {0.2470f, 0.2435f, 0.2616f};

bool Exists(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

absl::Status CheckDirectory(const std::string& dir, const std::string& dataset,
                            const std::vector<std::string>& expected_files,
                            const std::string& hint) {
  std::error_code error;
  if (std::filesystem::is_directory(dir, error)) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(dataset, " data directory ", dir,
                                          " does not exist; expected the files ",
                                          absl::StrJoin(expected_files, ", "), " there", hint));
}

std::vector<std::string> FashionMnistFileNames() {
  return {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
          "t10k-labels-idx1-ubyte.gz"};
}

// The .gz file, or the plain one beside it when only that exists (the error then names the .gz).
std::string FashionMnistFile(const std::string& dir, const std::string& stem) {
  const std::filesystem::path plain = std::filesystem::path(dir) / stem;
  const std::string gzipped = plain.string() + ".gz";
  return !Exists(gzipped) && Exists(plain) ? plain.string() : gzipped;
}

absl::StatusOr<Dataset> LoadFashionMnist(const std::string& dir, Split split) {
  RETURN_IF_ERROR(CheckDirectory(dir, "fashion_mnist", FashionMnistFileNames(),
                                 " (tools/setup.sh installs Debian's dataset-fashion-mnist at "
                                 "/usr/share/datasets/fashion-mnist)"));
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  const std::string images_path = FashionMnistFile(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = FashionMnistFile(dir, prefix + "-labels-idx1-ubyte");
  ASSIGN_OR_RETURN(IdxImages images, ReadIdxImages(images_path));
  ASSIGN_OR_RETURN(std::vector<int32_t> labels, ReadIdxLabels(labels_path, kFashionMnistClasses));
  if (static_cast<int64_t>(labels.size()) != images.count) {
    return absl::InvalidArgumentError(absl::StrCat(images_path, " and ", labels_path, ": images (",
                                                   images.count, ") and labels (", labels.size(),
                                                   ") differ in count"));
  }
  return Dataset{.name = absl::StrCat("fashion_mnist/", SplitName(split)),
                 .source = images_path,
                 .count = images.count,
                 .channels = 1,
                 .height = images.rows,
                 .width = images.cols,
                 .num_classes = kFashionMnistClasses,
                 .pixels = std::move(images.pixels),
                 .labels = std::move(labels),
                 .mean = {kFashionMnistMean},
                 .stddev = {kFashionMnistStddev}};
}

absl::StatusOr<Dataset> LoadCifar10(const std::string& dir, Split split) {
  std::vector<std::string> all_files = Cifar10FileNames(true);
  all_files.push_back(Cifar10FileNames(false).front());
  RETURN_IF_ERROR(CheckDirectory(dir, "cifar10", all_files,
                                 " (the binary version, cifar-10-binary.tar.gz, unpacked)"));
  // The archive unpacks into cifar-10-batches-bin/; accept its parent too.
  std::filesystem::path root = dir;
  if (!Exists(root / all_files.front()) && Exists(root / "cifar-10-batches-bin")) {
    root /= "cifar-10-batches-bin";
  }
  Cifar10Records records;
  for (const std::string& name : Cifar10FileNames(split == Split::kTrain)) {
    RETURN_IF_ERROR(AppendCifar10File((root / name).string(), records));
  }
  const int64_t count = static_cast<int64_t>(records.labels.size());
  return Dataset{.name = absl::StrCat("cifar10/", SplitName(split)),
                 .source = root.string(),
                 .count = count,
                 .channels = kCifar10Channels,
                 .height = kCifar10Side,
                 .width = kCifar10Side,
                 .num_classes = kCifar10Classes,
                 .pixels = std::move(records.pixels),
                 .labels = std::move(records.labels),
                 .mean = {std::begin(kCifar10Mean), std::end(kCifar10Mean)},
                 .stddev = {std::begin(kCifar10Stddev), std::end(kCifar10Stddev)}};
}

}  // namespace

const char* SplitName(Split split) { return split == Split::kTrain ? "train" : "test"; }

absl::StatusOr<Split> ParseSplit(const std::string& name) {
  if (name == "train") return Split::kTrain;
  if (name == "test") return Split::kTest;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown split \"", name, "\"; expected train or test"));
}

absl::StatusOr<Dataset> LoadDataset(const std::string& name, const std::string& dir, Split split,
                                    const SyntheticOptions& synthetic) {
  if (name == "fashion_mnist") return LoadFashionMnist(dir, split);
  if (name == "cifar10") return LoadCifar10(dir, split);
  if (name == "synthetic") return MakeSyntheticDataset(synthetic, split);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dataset \"", name, "\"; expected fashion_mnist, cifar10 or synthetic"));
}

absl::Status CheckSameImageSize(const Dataset& train, const Dataset& test) {
  if (train.channels == test.channels && train.height == test.height &&
      train.width == test.width) {
    return absl::OkStatus();
  }
  const auto describe = [](const Dataset& dataset) {
    return absl::StrCat(dataset.source.empty() ? dataset.name : dataset.source, " holds ",
                        dataset.channels, "x", dataset.height, "x", dataset.width, " images");
  };
  return absl::InvalidArgumentError(
      absl::StrCat("--data_dir: ", describe(train), ", but ", describe(test),
                   "; training and test images must have the same channels, height and width"));
}

ChannelStats ComputeChannelStats(const Dataset& dataset) {
  const int64_t plane = dataset.height * dataset.width;
  std::vector<double> sum(dataset.channels, 0.0), sum_squares(dataset.channels, 0.0);
  for (int64_t index = 0; index < dataset.count; ++index) {
    const uint8_t* pixel = dataset.image(index);
    for (int64_t channel = 0; channel < dataset.channels; ++channel) {
      // Integer sums per image are exact and keep the double accumulation short.
      int64_t image_sum = 0, image_squares = 0;
      for (int64_t i = 0; i < plane; ++i, ++pixel) {
        image_sum += *pixel;
        image_squares += int64_t{*pixel} * *pixel;
      }
      sum[channel] += static_cast<double>(image_sum);
      sum_squares[channel] += static_cast<double>(image_squares);
    }
  }
  ChannelStats stats;
  const double samples = static_cast<double>(dataset.count * plane);
  for (int64_t channel = 0; channel < dataset.channels; ++channel) {
    const double mean = sum[channel] / samples;
    const double variance = std::max(0.0, sum_squares[channel] / samples - mean * mean);
    stats.mean.push_back(static_cast<float>(mean / 255.0));
    stats.stddev.push_back(static_cast<float>(std::sqrt(variance) / 255.0));
  }
  return stats;
}

}  // namespace ald
