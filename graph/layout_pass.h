// The layout pass: which activations (and their gradients) live in oneDNN's channel-blocked
// nChw16c (AVX-512) or nChw8c (AVX2) layout, or for bf16 in NHWC, instead of plain NCHW. Ops that keep their input's layout (batch norm, ReLU,
// add, pooling, the shortcut, dropout) tie their inputs and output together; convolution and a
// cast may change layout between input and output. A group of tied values is blocked only if
// every member can be: rank 4, f32 or bf16, channels a multiple of the block (same bytes as
// plain; any count for NHWC, which never pads, and bf16 only), not the graph
// input (the data loader writes plain NCHW), and not the input of a flatten that mixes space
// into features (there the memory order matters). So reorders happen only at the graph's
// edges: the stem convolution reads plain input, parameters are reordered by the kernels.
#pragma once

#include <vector>

#include "graph/autodiff.h"
#include "ops/cpu/layout.h"

namespace ald {

// Per value of `graph` (gradients included, via primal_of): true for `layout` (nChw16c, nChw8c or
// NHWC), false for plain.
std::vector<bool> ChooseBlockedLayouts(
    const TrainingGraph& graph, cpu::ActivationLayout layout = cpu::ActivationLayout::kBlocked16);

}  // namespace ald
