// The precision pass (--precision=bf16): which activations, and so which gradients (autodiff
// gives a gradient its primal's type), are stored and computed in bf16. Every op that oneDNN
// runs in bf16 (convolution, linear, batch norm, element-wise, pooling, add, flatten, the
// shortcut) gets bf16 outputs; ops that stay f32 (softmax cross-entropy, accuracy, dropout)
// read f32, and so does a convolution of a one-channel image (oneDNN 2.6 has only its reference
// kernel for that in bf16). Where the two meet (the graph input before the stem, the logits
// before the loss) a cast node converts, so the logits, the loss and its seed gradient stay f32.
// Parameters, their gradients, batch-norm statistics and the optimizer's state are never
// touched: the lowering casts weights into a bf16 copy once per step (graph/lowering/shared.h).
// The CUDA lowering runs only convolutions and linear layers in bf16 (on the tensor cores); its
// other ops stay f32, with casts around each bf16 layer, as PyTorch's autocast does.
#pragma once

#include <optional>
#include <string_view>

#include "graph/graph.h"

namespace ald {

enum class Precision { kF32, kBF16 };

const char* PrecisionName(Precision precision);  // "fp32", "bf16": the flag's spelling
std::optional<Precision> ParsePrecision(std::string_view name);

// Which ops a backend runs in bf16.
enum class Bf16Kernels {
  kOneDnn,       // every op with a oneDNN bf16 kernel (the CPU)
  kTensorCores,  // convolutions and linear layers only (CUDA: cuDNN and cuBLAS on tensor cores)
};

// What runs in bf16 under `kernels`, for start-up lines.
const char* Bf16KernelsDescription(Bf16Kernels kernels);

// Whether ops of `type` run in bf16 under `kernels` (their activation inputs and outputs are
// bf16); a convolution of a one-channel image stays f32 regardless.
bool RunsInBf16(OpType type, Bf16Kernels kernels);

// Runs before autodiff, on a forward graph. Returns the number of casts inserted; graph.logits
// becomes the f32 cast of the last layer's bf16 output.
int AssignBf16(ModelGraph& graph, Bf16Kernels kernels = Bf16Kernels::kOneDnn);

}  // namespace ald
