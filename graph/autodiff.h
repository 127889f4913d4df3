// Reverse-mode autodiff over the graph IR: appends to a forward graph the gradient values and a
// schedule (forward nodes in order, then each node's backward in reverse order) that computes
// the gradient of the loss with respect to every trainable parameter. The gradient of a value
// read by several nodes (a residual connection's input) is the sum of their contributions.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace ald {

// One node's backward: reads the gradient of its first output, writes its inputs' gradients.
struct BackwardStep {
  int node = -1;                     // index into graph.nodes
  ValueId output_grad = kNoValue;    // d loss / d node.outputs[0]
  std::vector<ValueId> input_grads;  // per node input: its gradient contribution, or kNoValue
};

// total = sum of parts (the partial gradients of a value read by several nodes).
struct GradientSum {
  ValueId total = kNoValue;
  std::vector<ValueId> parts;
};

struct ScheduleEntry {
  enum class Kind { kForward, kSum, kBackward };
  Kind kind;
  int index;  // into graph.nodes, sums or backward
};

struct TrainingGraph {
  ModelGraph graph;                // the forward graph plus gradient values
  std::vector<ValueId> grad;       // per value: its total gradient, or kNoValue
  std::vector<ValueId> alias_of;   // per value: the value whose storage it is a view of (or itself)
  std::vector<ValueId> primal_of;  // per value: for a gradient, the value it is the gradient of
                                   // (so it can share that value's layout); else itself
  ValueId loss_grad = kNoValue;    // d loss / d loss = 1, the seed of the backward pass
  std::vector<BackwardStep> backward;
  std::vector<GradientSum> sums;
  std::vector<ScheduleEntry> schedule;

  // Follows alias_of to the value that owns the storage.
  ValueId StorageOf(ValueId value) const;
};

// Forward-only schedule (inference and evaluation): no gradients.
TrainingGraph InferenceGraph(ModelGraph graph);

// The training schedule. Fails (naming the parameter) if a parameter is read by two nodes:
// shared weights are not needed by any model here and would need a gradient sum into the
// persistent gradient buffer.
absl::StatusOr<TrainingGraph> BuildTrainingGraph(ModelGraph graph);

}  // namespace ald
