// A plain-loop executor of a training graph in double precision, built from the ops' reference
// kernels (ops/ref): the ground truth the compiled plans are checked against, in the spirit of
// ggml's test-backend-ops. Gradients in double can be checked against finite differences with
// steps small enough (1e-6) that ReLU and max-pool switches almost never fall inside them,
// which float finite differences on the compiled plan cannot resolve.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "graph/autodiff.h"

namespace ald {

class ReferenceExecutor {
 public:
  explicit ReferenceExecutor(const TrainingGraph& graph);

  // Sets a value before Run: parameters, the input batch, the labels (as doubles).
  void Set(ValueId value, std::vector<double> data) { data_[value] = std::move(data); }
  const std::vector<double>& Get(ValueId value) const { return data_[value]; }

  // Forward with batch statistics, the loss, and (for a training graph) every gradient.
  absl::Status Run();
  double loss() const { return data_[graph_.graph.loss][0]; }

 private:
  absl::Status Forward(const Node& node);
  absl::Status Backward(const BackwardStep& step);
  std::vector<double>& Out(ValueId value);  // sized to the value's shape, zeroed

  const TrainingGraph& graph_;
  std::vector<std::vector<double>> data_;
};

}  // namespace ald
