// Graph-to-graph passes run by the compiler before autodiff.
#pragma once

#include "graph/graph.h"

namespace ald {

// Removes nodes none of whose outputs reach the loss or the accuracy; returns how many.
int EliminateDeadNodes(ModelGraph& graph);

// Folds a ReLU into the op before it where oneDNN supports that in training: convolution
// (eltwise post-op), batch norm (fuse_norm_relu) and the residual add (binary post-op). Only
// when the ReLU is the op's sole consumer, so no one needs the pre-activation value. Returns
// the number of ReLUs folded.
int FuseRelu(ModelGraph& graph);

// For each value, the indices of the nodes that read it.
std::vector<std::vector<int>> ConsumersOf(const ModelGraph& graph);

}  // namespace ald
