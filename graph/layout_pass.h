// The layout pass: which activations (and their gradients) live in oneDNN's channel-blocked
// nChw16c layout instead of plain NCHW. Ops that keep their input's layout (batch norm, ReLU,
// add, pooling, the shortcut, dropout) tie their inputs and output together; convolution and a
// cast may change layout between input and output. A group of tied values is blocked only if
// every member can be: rank 4, f32 or bf16, channels a multiple of 16 (same bytes as plain; any
// count with `any_channels`, for NHWC, which never pads), not the graph
// input (the data loader writes plain NCHW), and not the input of a flatten that mixes space
// into features (there the memory order matters). So reorders happen only at the graph's
// edges: the stem convolution reads plain input, parameters are reordered by the kernels.
#pragma once

#include <vector>

#include "graph/autodiff.h"

namespace ald {

// Per value of `graph` (gradients included, via primal_of): true for nChw16c.
std::vector<bool> ChooseBlockedLayouts(const TrainingGraph& graph, bool any_channels = false);

}  // namespace ald
