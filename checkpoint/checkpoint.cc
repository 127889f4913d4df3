#include "checkpoint/checkpoint.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <filesystem>
#include <set>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/atomic_file.h"
#include "core/file_io.h"
#include "core/status.h"

namespace ald {
namespace {

constexpr char kOptimizerPrefix[] = "optimizer/";
constexpr char kRunningStatsPrefix[] = "running_stats/";
constexpr char kAlgorithmPrefix[] = "algorithm/";
constexpr char kFlagPrefix[] = "flag/";
constexpr char kLatestName[] = "latest";
// Marks our files among other safetensors files (a Hugging Face model has no step to resume).
constexpr char kFormatKey[] = "checkpoint_format";
constexpr char kFormat[] = "ald/1";

// The scalar metadata fields, in one table so that writing and reading cannot drift apart.
struct IntegerField {
  const char* key;
  int64_t TrainingState::*signed_member;
  uint64_t TrainingState::*unsigned_member;
};
constexpr IntegerField kIntegerFields[] = {
    {"step", &TrainingState::step, nullptr},
    {"epoch", &TrainingState::epoch, nullptr},
    {"step_in_epoch", &TrainingState::step_in_epoch, nullptr},
    {"seed", nullptr, &TrainingState::seed},
    {"worker", &TrainingState::worker, nullptr},
    {"rng_position", nullptr, &TrainingState::rng_position},
    {"data_position", &TrainingState::data_position, nullptr},
};

void AppendPrefixed(const std::vector<NamedTensor>& tensors, const std::string& prefix,
                    std::vector<NamedTensor>& out) {
  for (const NamedTensor& named : tensors) out.push_back({prefix + named.name, named.tensor});
}

// All of a state's tensors under the names they have in the file.
std::vector<NamedTensor> FileTensors(const TrainingState& state) {
  std::vector<NamedTensor> tensors;
  AppendPrefixed(state.parameters, "", tensors);
  AppendPrefixed(state.optimizer_state, kOptimizerPrefix, tensors);
  AppendPrefixed(state.running_stats, kRunningStatsPrefix, tensors);
  AppendPrefixed(state.algorithm_state, kAlgorithmPrefix, tensors);
  return tensors;
}

// A parameter named "optimizer/..." would be read back as optimizer state.
absl::Status CheckParameterNames(const TrainingState& state) {
  for (const NamedTensor& named : state.parameters) {
    for (const char* prefix : {kOptimizerPrefix, kRunningStatsPrefix, kAlgorithmPrefix}) {
      if (absl::StartsWith(named.name, prefix)) {
        return absl::InvalidArgumentError(absl::StrCat("parameter '", named.name, "' starts with '",
                                                       prefix, "', which checkpoints reserve"));
      }
    }
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> MakeMetadata(const TrainingState& state) {
  std::map<std::string, std::string> metadata = {{kFormatKey, kFormat}, {"model", state.model}};
  for (const IntegerField& field : kIntegerFields) {
    metadata[field.key] = field.signed_member != nullptr
                              ? absl::StrCat(state.*field.signed_member)
                              : absl::StrCat(state.*field.unsigned_member);
  }
  for (const auto& [flag, value] : state.flags) metadata[kFlagPrefix + flag] = value;
  return metadata;
}

absl::StatusOr<TrainingState> StateFromFile(SafetensorsFile file) {
  const auto lookup = [&](const std::string& key) -> absl::StatusOr<std::string> {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end()) {
      return absl::DataLossError(absl::StrCat("metadata '", key, "' missing"));
    }
    return it->second;
  };
  ASSIGN_OR_RETURN(const std::string format, lookup(kFormatKey));
  if (format != kFormat) {
    return absl::DataLossError(absl::StrCat("metadata '", kFormatKey, "' is '", format,
                                            "', this reader knows '", kFormat, "'"));
  }
  TrainingState state;
  ASSIGN_OR_RETURN(state.model, lookup("model"));
  for (const IntegerField& field : kIntegerFields) {
    ASSIGN_OR_RETURN(const std::string text, lookup(field.key));
    const bool parsed = field.signed_member != nullptr
                            ? absl::SimpleAtoi(text, &(state.*field.signed_member))
                            : absl::SimpleAtoi(text, &(state.*field.unsigned_member));
    if (!parsed) {
      return absl::DataLossError(
          absl::StrCat("metadata '", field.key, "' is '", text, "', expected an integer"));
    }
  }
  for (const auto& [key, value] : file.metadata) {
    if (absl::StartsWith(key, kFlagPrefix)) state.flags[key.substr(strlen(kFlagPrefix))] = value;
  }
  for (NamedTensor& named : file.tensors) {
    std::vector<NamedTensor>* group = &state.parameters;
    for (const auto& [prefix, prefixed_group] :
         {std::pair{kOptimizerPrefix, &state.optimizer_state},
          std::pair{kRunningStatsPrefix, &state.running_stats},
          std::pair{kAlgorithmPrefix, &state.algorithm_state}}) {
      if (absl::StartsWith(named.name, prefix)) {
        named.name.erase(0, strlen(prefix));
        group = prefixed_group;
      }
    }
    group->push_back(std::move(named));
  }
  return state;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  ASSIGN_OR_RETURN(UniqueFd in, UniqueFd::Open(path, O_RDONLY));
  ASSIGN_OR_RETURN(uint64_t size, in.Size());
  constexpr uint64_t kMaxBytes = 4096;  // a pointer file holds one file name
  if (size > kMaxBytes) {
    return absl::DataLossError(absl::StrCat(path, ": ", size, " bytes, not a pointer file"));
  }
  std::string contents(size, '\0');
  RETURN_IF_ERROR(in.ReadAt(0, contents.data(), contents.size()));
  return contents;
}

// The checkpoint file that `dir`/latest names.
absl::StatusOr<std::string> LatestIn(const std::string& dir) {
  const std::string pointer = absl::StrCat(dir, "/", kLatestName);
  absl::StatusOr<std::string> contents = ReadSmallFile(pointer);
  if (absl::IsNotFound(contents.status())) {
    return absl::NotFoundError(absl::StrCat("no checkpoint in ", dir, ": ", pointer, " missing"));
  }
  RETURN_IF_ERROR(contents.status());
  const std::string name(absl::StripAsciiWhitespace(*contents));
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return absl::DataLossError(
        absl::StrCat(pointer, " names '", name, "', expected a file name in ", dir));
  }
  return absl::StrCat(dir, "/", name);
}

}  // namespace

std::string CheckpointFileName(int64_t step) {
  return absl::StrCat("checkpoint-", step, ".safetensors");
}

absl::StatusOr<std::string> SaveCheckpoint(const std::string& dir, const TrainingState& state) {
  if (state.step < 0) {
    return absl::InvalidArgumentError(absl::StrCat("step ", state.step, " is negative"));
  }
  RETURN_IF_ERROR(CheckParameterNames(state));
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  }
  const std::string name = CheckpointFileName(state.step);
  const std::string path = absl::StrCat(dir, "/", name);
  RETURN_IF_ERROR(WriteSafetensors(path, FileTensors(state), MakeMetadata(state)));
  RETURN_IF_ERROR(WriteStringAtomically(absl::StrCat(dir, "/", kLatestName), name + "\n"));
  return path;
}

absl::StatusOr<std::string> ResolveCheckpoint(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) return LatestIn(path);
  return path;
}

absl::StatusOr<std::vector<int64_t>> CheckpointSteps(const std::string& dir) {
  ASSIGN_OR_RETURN(const std::string latest, LatestIn(dir));
  const auto step_of = [](const std::string& name) -> std::optional<int64_t> {
    absl::string_view text = name;
    int64_t step = 0;
    if (!absl::ConsumePrefix(&text, "checkpoint-") || !absl::ConsumeSuffix(&text, ".safetensors") ||
        !absl::SimpleAtoi(text, &step) || step < 0 || CheckpointFileName(step) != name) {
      return std::nullopt;
    }
    return step;
  };
  const std::string latest_name = std::filesystem::path(latest).filename().string();
  const std::optional<int64_t> newest = step_of(latest_name);
  if (!newest.has_value()) {
    return absl::DataLossError(absl::StrCat(dir, "/", kLatestName, " names '", latest_name,
                                            "', expected checkpoint-<step>.safetensors"));
  }
  std::vector<int64_t> steps;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::optional<int64_t> step = step_of(entry.path().filename().string());
    if (step.has_value() && *step <= *newest) steps.push_back(*step);
  }
  if (error) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", error.message()));
  std::sort(steps.begin(), steps.end());
  if (steps.empty() || steps.back() != *newest) {
    return absl::NotFoundError(absl::StrCat(dir, "/", kLatestName, " names ", latest_name,
                                            ", which does not exist"));
  }
  return steps;
}

absl::StatusOr<TrainingState> LoadCheckpoint(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string file_path, ResolveCheckpoint(path));
  ASSIGN_OR_RETURN(SafetensorsFile file, ReadSafetensors(file_path));
  absl::StatusOr<TrainingState> state = StateFromFile(std::move(file));
  if (!state.ok()) {
    return absl::DataLossError(absl::StrCat(file_path, ": ", state.status().message()));
  }
  return state;
}

absl::Status RestoreInto(TrainingState& model, const TrainingState& loaded) {
  const std::string context =
      absl::StrCat("checkpoint was written by model '", loaded.model, "': ");
  const auto mismatch = [&](const std::string& what) {
    return absl::InvalidArgumentError(context + what);
  };
  const std::vector<NamedTensor> expected = FileTensors(model);
  const std::vector<NamedTensor> found = FileTensors(loaded);
  std::map<std::string, const Tensor*> found_by_name;
  for (const NamedTensor& named : found) found_by_name[named.name] = &named.tensor;

  std::set<std::string> expected_names;
  for (const NamedTensor& want : expected) {
    expected_names.insert(want.name);
    const auto it = found_by_name.find(want.name);
    if (it == found_by_name.end()) {
      return mismatch(absl::StrCat("tensor '", want.name, "' missing"));
    }
    const Tensor& have = *it->second;
    if (!want.tensor.defined()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the model's tensor '", want.name, "' is undefined"));
    }
    if (have.dtype() != want.tensor.dtype()) {
      return mismatch(absl::StrCat("tensor '", want.name, "' has dtype ", DTypeName(have.dtype()),
                                   " in the file, the model expects ",
                                   DTypeName(want.tensor.dtype())));
    }
    if (have.shape() != want.tensor.shape()) {
      return mismatch(absl::StrCat("tensor '", want.name, "' has shape ", have.shape().ToString(),
                                   " in the file, the model expects ",
                                   want.tensor.shape().ToString()));
    }
  }
  for (const NamedTensor& named : found) {
    if (!expected_names.contains(named.name)) {
      return mismatch(
          absl::StrCat("tensor '", named.name, "' is in the file but not in the model"));
    }
  }

  for (const NamedTensor& want : expected) {
    Tensor target = want.tensor;  // a view: copying into it fills the model's storage
    RETURN_IF_ERROR(target.CopyFrom(*found_by_name[want.name]));
  }
  TrainingState restored = loaded;  // scalars and flags; its tensors are replaced below
  restored.parameters = std::move(model.parameters);
  restored.optimizer_state = std::move(model.optimizer_state);
  restored.running_stats = std::move(model.running_stats);
  restored.algorithm_state = std::move(model.algorithm_state);
  model = std::move(restored);
  return absl::OkStatus();
}

}  // namespace ald
