#include "tools/trainer/train_flags.h"

#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "comm/algorithms/registry.h"

#define TRAIN_FLAG(type, flag, field, default_value, checkpointed, help, ...) \
  ABSL_FLAG(type, flag, default_value, help);
#include "tools/trainer/train_flags.inc"

namespace ald {

TrainConfig ConfigFromFlags() {
  TrainConfig config;
#define TRAIN_FLAG(type, flag, field, ...) config.field = absl::GetFlag(FLAGS_##flag);
#include "tools/trainer/train_flags.inc"
  return config;
}

}  // namespace ald
