#include "ops/testing/op_testing.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "core/rng.h"

namespace ald::testing {

std::vector<double> RandomValues(int64_t n, uint64_t seed, double low, double high) {
  Rng rng(seed, 0, 0, RngStream::kTest);
  std::vector<double> values(n);
  for (double& value : values) value = low + (high - low) * rng.Uniform();
  return values;
}

std::vector<int32_t> RandomLabels(int64_t n, int32_t classes, uint64_t seed) {
  Rng rng(seed, 1, 0, RngStream::kTest);
  std::vector<int32_t> labels(n);
  for (int32_t& label : labels) label = static_cast<int32_t>(rng.Below(classes));
  return labels;
}

Tensor F32Tensor(const Shape& shape, std::span<const double> values) {
  absl::StatusOr<Tensor> tensor = Tensor::Create(shape, DType::kF32);
  if (!tensor.ok() || tensor->num_elements() != static_cast<int64_t>(values.size())) {
    ADD_FAILURE() << "F32Tensor: " << values.size() << " values for shape " << shape.ToString();
    std::abort();
  }
  float* data = tensor->data<float>();
  for (size_t i = 0; i < values.size(); ++i) data[i] = static_cast<float>(values[i]);
  return *std::move(tensor);
}

Tensor ZerosF32(const Shape& shape) {
  std::vector<double> zeros(shape.num_elements(), 0.0);
  return F32Tensor(shape, zeros);
}

Tensor I32Tensor(const Shape& shape, std::span<const int32_t> values) {
  absl::StatusOr<Tensor> tensor =
      Tensor::FromInt32s(shape, std::vector<int32_t>(values.begin(), values.end()));
  if (!tensor.ok()) {
    ADD_FAILURE() << tensor.status();
    std::abort();
  }
  return *std::move(tensor);
}

std::vector<double> ToDoubles(const Tensor& tensor) {
  std::vector<double> values;
  values.reserve(tensor.num_elements());
  if (tensor.dtype() == DType::kI32) {
    for (int32_t v : tensor.values<int32_t>()) values.push_back(v);
  } else {
    for (float v : tensor.values<float>()) values.push_back(v);
  }
  return values;
}

std::vector<double> RoundedToFloat(std::span<const double> values) {
  std::vector<double> rounded(values.size());
  for (size_t i = 0; i < values.size(); ++i) rounded[i] = static_cast<float>(values[i]);
  return rounded;
}

::testing::AssertionResult AllClose(std::span<const double> actual,
                                    std::span<const double> expected, double atol, double rtol) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size mismatch: " << actual.size() << " vs expected " << expected.size();
  }
  size_t worst = 0, failures = 0;
  double worst_excess = -1;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double allowed = atol + rtol * std::abs(expected[i]);
    const double error = std::abs(actual[i] - expected[i]);
    const double excess = std::isnan(error) ? INFINITY : error - allowed;
    if (excess > 0) ++failures;
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << failures << " of " << actual.size() << " elements differ (atol " << atol << ", rtol "
         << rtol << "); worst at [" << worst << "]: " << actual[worst] << " vs expected "
         << expected[worst];
}

::testing::AssertionResult CheckGradients(const DoubleFunction& f,
                                          const std::vector<std::vector<double>>& inputs,
                                          const std::vector<double>& upstream,
                                          const std::vector<std::vector<double>>& analytic,
                                          const std::vector<int>& which, double epsilon,
                                          double atol, double rtol) {
  auto loss = [&](const std::vector<std::vector<double>>& point) {
    const std::vector<double> out = f(point);
    double total = 0;
    for (size_t i = 0; i < out.size(); ++i) total += upstream[i] * out[i];
    return total;
  };
  std::vector<std::vector<double>> point = inputs;
  for (int k : which) {
    std::vector<double> numeric(point[k].size());
    for (size_t i = 0; i < point[k].size(); ++i) {
      const double saved = point[k][i];
      point[k][i] = saved + epsilon;
      const double plus = loss(point);
      point[k][i] = saved - epsilon;
      const double minus = loss(point);
      point[k][i] = saved;
      numeric[i] = (plus - minus) / (2 * epsilon);
    }
    ::testing::AssertionResult close = AllClose(analytic[k], numeric, atol, rtol);
    if (!close) return ::testing::AssertionFailure() << "input " << k << ": " << close.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ald::testing
