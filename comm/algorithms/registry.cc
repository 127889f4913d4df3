#include "comm/algorithms/registry.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "comm/algorithms/bucket_device.h"

namespace ald {

std::span<const AlgorithmEntry> Algorithms() {
  static constexpr std::array<AlgorithmEntry, 7> kAlgorithms = {{
      {"allreduce", MakeAllReduceSgd, true, false},
      {"dpsgd", MakeDpsgd, true, true},
      {"matcha", MakeMatchaSgd, true, true},
      {"aldsgd", MakeAldsgd, true, true},
      {"easgd", MakeEasgd, false, true},
      {"lsgd", MakeLsgd, false, true},
      {"adpsgd", MakeAdpsgd, false, false},
  }};
  return kAlgorithms;
}

const AlgorithmEntry* FindAlgorithm(std::string_view name) {
  for (const AlgorithmEntry& entry : Algorithms()) {
    if (name == entry.name) return &entry;
  }
  return nullptr;
}

std::vector<std::string> AlgorithmNames() {
  std::vector<std::string> names;
  for (const AlgorithmEntry& entry : Algorithms()) names.push_back(entry.name);
  return names;
}

std::string AlgorithmNameList(bool gpu_only) {
  std::vector<std::string> names;
  for (const AlgorithmEntry& entry : Algorithms()) {
    if (!gpu_only || entry.runs_on_gpu) names.push_back(entry.name);
  }
  return absl::StrJoin(names, " | ");
}

std::string ModelSendingAlgorithmList() {
  std::vector<std::string> names;
  for (const AlgorithmEntry& entry : Algorithms()) {
    if (entry.sends_models) names.push_back(entry.name);
  }
  return absl::StrJoin(names, " | ");
}

absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const std::string& name,
                                                           const AlgorithmContext& context) {
  if (const AlgorithmEntry* found = FindAlgorithm(name); found != nullptr) {
    const AlgorithmEntry& entry = *found;
    if (context.comm == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": no communicator"));
    }
    if (context.device != nullptr && context.device->memory() != DeviceType::kCpu &&
        !entry.runs_on_gpu) {
      return absl::UnimplementedError(absl::StrCat("--algo=", name,
                                                   " runs on the CPU only so far; on the GPU: ",
                                                   AlgorithmNameList(/*gpu_only=*/true)));
    }
    if (context.options.wire != WireFormat::kFp32 && !entry.sends_models) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--wire=", WireFormatName(context.options.wire), " with --algo=", name,
          ": only the algorithms that send models round them (", ModelSendingAlgorithmList(),
          "); use --wire=fp32"));
    }
    return entry.make(context);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--algo=", name, ": expected one of ", absl::StrJoin(AlgorithmNames(), ", ")));
}

}  // namespace ald
