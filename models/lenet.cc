#include "models/lenet.h"

#include "graph/model_builder.h"

namespace ald {

absl::StatusOr<ModelGraph> BuildLeNet5(const ModelOptions& options) {
  ModelBuilder m("lenet5", options.input_shape());
  ValueId x = m.Relu(m.Conv(m.input(), {.out = 6, .kernel = 5, .padding = 2}, "conv1"));
  x = m.MaxPool(x, 2, 2, 0, "pool1");
  x = m.Relu(m.Conv(x, {.out = 16, .kernel = 5}, "conv2"));
  x = m.Flatten(m.MaxPool(x, 2, 2, 0, "pool2"));
  x = m.Relu(m.Linear(x, 120, true, "fc1"));
  x = m.Relu(m.Linear(x, 84, true, "fc2"));
  return m.Finish(m.Linear(x, options.classes, true, "fc3"));
}

}  // namespace ald
