// Writes a small training checkpoint, and beside it a JSON file of what a reader must find in
// it (names in file order, dtypes, shapes, exact values, sums and L2 norms), for
// pytorch_reads_test.sh. Usage: write_test_checkpoint CHECKPOINT_DIR EXPECTED_JSON
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "checkpoint/checkpoint.h"
#include "core/json.h"
#include "core/tensor.h"

namespace ald {
namespace {

// Values that exercise sign, magnitude and rounding, not just small integers.
std::vector<float> Values(int64_t count, float scale) {
  std::vector<float> values;
  for (int64_t i = 0; i < count; ++i) values.push_back(scale * std::sin(1.0f + 0.7f * i));
  return values;
}

Tensor F32(Shape shape, float scale) {
  const int64_t count = shape.num_elements();
  return *Tensor::FromVector(std::move(shape), Values(count, scale));
}

Tensor Bf16(Shape shape, float scale) {
  Tensor tensor = *Tensor::Create(shape, DType::kBF16);
  const std::vector<float> values = Values(tensor.num_elements(), scale);
  for (size_t i = 0; i < values.size(); ++i) tensor.data<BFloat16>()[i] = BFloat16(values[i]);
  return tensor;
}

// Each element as a double: exact for all three dtypes.
std::vector<double> AsDoubles(const Tensor& tensor) {
  std::vector<double> values;
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    switch (tensor.dtype()) {
      case DType::kF32: values.push_back(tensor.data<float>()[i]); break;
      case DType::kBF16: values.push_back(static_cast<float>(tensor.data<BFloat16>()[i])); break;
      case DType::kI32: values.push_back(tensor.data<int32_t>()[i]); break;
    }
  }
  return values;
}

std::string Describe(const std::string& name, const Tensor& tensor) {
  const std::vector<double> values = AsDoubles(tensor);
  double sum = 0, squares = 0;
  for (double v : values) sum += v, squares += v * v;
  // %.17g round-trips a double, so a reader compares the exact values.
  const auto format = [](std::string* out, double v) { absl::StrAppendFormat(out, "%.17g", v); };
  return absl::StrFormat(
      "%s: {\"dtype\": \"%s\", \"shape\": [%s], \"sum\": %.17g, \"l2\": %.17g, \"values\": [%s]}",
      json::Quote(name), SafetensorsDTypeName(tensor.dtype()),
      absl::StrJoin(tensor.shape().dims(), ", "), sum, std::sqrt(squares),
      absl::StrJoin(values, ", ", format));
}

int Main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT_DIR EXPECTED_JSON\n", argv[0]);
    return 2;
  }
  TrainingState state;
  state.model = "tiny";
  state.step = 7;
  state.epoch = 1;
  state.step_in_epoch = 2;
  state.seed = 42;
  state.flags = {{"lr", "0.4"}};
  state.parameters = {
      {"conv/weight", F32({2, 3, 2}, 1.5f)},
      {"fc/half", Bf16({5}, 100)},  // 10 bytes: the tensors after it start unaligned
      {"labels", *Tensor::FromInt32s({2, 3}, {0, -1, 7, 2147483647, -2147483647 - 1, 12})},
      {"scale", F32({}, -3.25f)},
      {"empty", *Tensor::Create({0, 3})},
  };
  state.optimizer_state = {{"conv/weight", F32({2, 3, 2}, 1e-3f)}};
  state.running_stats = {{"bn/var", F32({3}, 2)}};

  absl::StatusOr<std::string> path = SaveCheckpoint(argv[1], state);
  if (!path.ok()) {
    std::fprintf(stderr, "%s\n", std::string(path.status().message()).c_str());
    return 1;
  }
  // The names the checkpoint gives each group (checkpoint.h), in the order it writes them.
  std::vector<std::string> tensors;
  for (const auto& [prefix, group] : {std::pair{"", &state.parameters},
                                      std::pair{"optimizer/", &state.optimizer_state},
                                      std::pair{"running_stats/", &state.running_stats}}) {
    for (const NamedTensor& named : *group) {
      tensors.push_back(Describe(prefix + named.name, named.tensor));
    }
  }
  std::ofstream out(argv[2]);
  out << "{\"metadata\": {\"model\": \"tiny\", \"step\": \"7\", \"seed\": \"42\", "
         "\"flag/lr\": \"0.4\"},\n \"tensors\": {\n  "
      << absl::StrJoin(tensors, ",\n  ") << "}}\n";
  std::printf("wrote %s\n", path->c_str());
  return out.good() ? 0 : 1;
}

}  // namespace
}  // namespace ald

int main(int argc, char** argv) { return ald::Main(argc, argv); }
