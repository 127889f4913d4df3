// Test helpers shared by every op test: random inputs, tensor <-> double conversion, closeness
// with a report of the worst element, and a central-finite-difference gradient checker
// (in the spirit of flashlight's Jacobian checker) run on the double-precision reference.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"
#include "gtest/gtest.h"

namespace ald::testing {

// n values uniform in [low, high), reproducible from `seed`.
std::vector<double> RandomValues(int64_t n, uint64_t seed, double low = -1.0, double high = 1.0);
// n integer labels in [0, classes).
std::vector<int32_t> RandomLabels(int64_t n, int32_t classes, uint64_t seed);

// An f32 CPU tensor holding `values` (rounded to float); dies on a bad shape (tests only).
Tensor F32Tensor(const Shape& shape, std::span<const double> values);
Tensor ZerosF32(const Shape& shape);
Tensor I32Tensor(const Shape& shape, std::span<const int32_t> values);
std::vector<double> ToDoubles(const Tensor& tensor);
// The values as the f32 tensor would hold them, widened again (to compare against a reference
// evaluated on exactly the float inputs a kernel saw).
std::vector<double> RoundedToFloat(std::span<const double> values);

// |actual - expected| <= atol + rtol * |expected| everywhere; on failure names the worst index.
::testing::AssertionResult AllClose(std::span<const double> actual,
                                    std::span<const double> expected, double atol, double rtol);

// A function of several flattened inputs to one flattened output, evaluated in double.
using DoubleFunction =
    std::function<std::vector<double>(const std::vector<std::vector<double>>& inputs)>;

// Central finite differences of L(x) = <upstream, f(x)> with respect to every element of
// inputs[k] for each k in `which`, compared with `analytic[k]` (the backward pass given
// `upstream` as the output gradient). `epsilon` is the step; tolerances as in AllClose.
::testing::AssertionResult CheckGradients(const DoubleFunction& f,
                                          const std::vector<std::vector<double>>& inputs,
                                          const std::vector<double>& upstream,
                                          const std::vector<std::vector<double>>& analytic,
                                          const std::vector<int>& which, double epsilon = 1e-6,
                                          double atol = 1e-6, double rtol = 1e-5);

}  // namespace ald::testing
