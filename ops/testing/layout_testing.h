// Test helpers for kernels whose activations live in a blocked layout: oneDNN reorders between
// a plain tensor and a tensor of the same logical shape whose bytes follow an ActivationLayout,
// so a test can feed a kernel blocked inputs and compare its outputs with the plain kernel's.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "ops/cpu/layout.h"

namespace ald::testing {

// A new f32 tensor of the same shape holding `plain`'s elements in `layout`; dies on error
// (including a layout the shape cannot take; tests only).
Tensor ToLayout(const Tensor& plain, cpu::ActivationLayout layout);
// A new plain f32 tensor holding the elements of `tensor`, whose bytes follow `layout`.
Tensor FromLayout(const Tensor& tensor, cpu::ActivationLayout layout);
// The elements of `tensor` (bytes in `layout`) in plain row-major order, as doubles.
std::vector<double> PlainValues(const Tensor& tensor, cpu::ActivationLayout layout);

}  // namespace ald::testing
