// A user's own model: a small CNN written with the model DSL and registered under "my_cnn", so
// that --model=my_cnn trains it. Nothing in the project is edited; this file only has to be
// linked into the training binary (see BUILD).
#include "graph/model_builder.h"
#include "models/registry.h"

namespace my_model {

// conv3x3(16)-BN-ReLU - maxpool - conv3x3(32)-BN-ReLU - global average - linear: small enough
// to train in seconds, and the global average lets it take any image size (28x28 Fashion-MNIST,
// 32x32 CIFAR-10, the 8x8 synthetic set).
absl::StatusOr<ald::ModelGraph> BuildMyCnn(const ald::ModelOptions& options) {
  ald::ModelBuilder m("my_cnn", options.input_shape());
  ald::ValueId x = m.Conv(m.input(), {.out = 16, .kernel = 3, .padding = 1}, "conv1");
  x = m.MaxPool(m.Relu(m.BatchNorm(x, "bn1")), 2, 2, 0, "pool1");
  x = m.Conv(x, {.out = 32, .kernel = 3, .padding = 1}, "conv2");
  x = m.Flatten(m.GlobalAvgPool(m.Relu(m.BatchNorm(x, "bn2"))));
  return m.Finish(m.Linear(x, options.classes, true, "fc"));
}

// Registers the model before main() runs.
const ald::ModelRegistration kMyCnn("my_cnn", BuildMyCnn);

}  // namespace my_model
