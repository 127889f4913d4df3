// BatchNorm2dCuda against the reference loops (ops/ref/batchnorm2d.h): training forward, saved
// and running statistics (PyTorch's unbiased running variance), inference, backward, fused ReLU,
// and the CPU rule's errors.
#include "ops/cuda/batchnorm2d.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/batchnorm2d.h"
#include "ops/ref/relu.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

constexpr double kAtol = 1e-4, kRtol = 1e-4;

std::vector<double> Relu(const std::vector<double>& x) {
  std::vector<double> y(x.size());
  ref::ReluForward<double>(x, y);
  return y;
}

TEST(BatchNorm2dCudaTest, TrainingInferenceAndBackwardMatchReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  uint64_t seed = 100;
  for (const bool fuse_relu : {false, true}) {
    for (const Shape& input : {Shape{2, 3, 4, 5}, Shape{8, 16, 3, 3}, Shape{5, 2, 1, 1}}) {
      SCOPED_TRACE(input.ToString() + (fuse_relu ? " relu" : ""));
      BatchNorm2dAttrs attrs;
      attrs.momentum = 0.3f;  // far from 0 and 1, so a wrong blend shows
      attrs.fuse_relu = fuse_relu;
      ALD_ASSERT_OK_AND_ASSIGN(auto op, BatchNorm2dCuda::Create(*handles, input, attrs));
      const ref::BatchNorm2dDims dims = RefDims(op->shapes());
      const int64_t c = input[1], m = dims.per_channel();
      const double eps = attrs.eps, momentum = attrs.momentum;
      // Shift the input off zero so that the mean matters.
      auto x = RandomValues(input.num_elements(), seed++, 0.5, 3.0);
      x = RoundedToFloat(x);
      const auto gamma = RoundedToFloat(RandomValues(c, seed++, 0.5, 1.5));
      const auto beta = RoundedToFloat(RandomValues(c, seed++));
      const auto run_mean0 = RoundedToFloat(RandomValues(c, seed++));
      const auto run_var0 = RoundedToFloat(RandomValues(c, seed++, 0.5, 2.0));
      const auto dy = RoundedToFloat(RandomValues(input.num_elements(), seed++));

      std::vector<double> y_ref(x.size()), mean_ref(c), var_ref(c);
      ref::BatchNorm2dForwardTraining<double>(dims, x, gamma, beta, eps, y_ref, mean_ref, var_ref);
      std::vector<double> dz = dy;
      if (fuse_relu) {
        y_ref = Relu(y_ref);
        ref::ReluBackward<double>(y_ref, dy, dz);
      }
      std::vector<double> inv_std_ref(c), run_mean_ref(c), run_var_ref(c);
      for (int64_t i = 0; i < c; ++i) {
        inv_std_ref[i] = 1.0 / std::sqrt(var_ref[i] + eps);
        run_mean_ref[i] = (1 - momentum) * run_mean0[i] + momentum * mean_ref[i];
        run_var_ref[i] = (1 - momentum) * run_var0[i] + momentum * var_ref[i] *
                                                            static_cast<double>(m) /
                                                            static_cast<double>(m - 1);
      }
      std::vector<double> y_inf_ref(x.size());
      ref::BatchNorm2dNormalize<double>(dims, x, gamma, beta, run_mean0, run_var0, eps, y_inf_ref);
      if (fuse_relu) y_inf_ref = Relu(y_inf_ref);
      std::vector<double> dx_ref(x.size()), dgamma_ref(c), dbeta_ref(c);
      ref::BatchNorm2dBackward<double>(dims, x, gamma, mean_ref, var_ref, dz, eps, dx_ref,
                                       dgamma_ref, dbeta_ref);

      ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, Upload(x));
      ALD_ASSERT_OK_AND_ASSIGN(auto gamma_dev, Upload(gamma));
      ALD_ASSERT_OK_AND_ASSIGN(auto beta_dev, Upload(beta));
      ALD_ASSERT_OK_AND_ASSIGN(auto run_mean_dev, Upload(run_mean0));
      ALD_ASSERT_OK_AND_ASSIGN(auto run_var_dev, Upload(run_var0));
      // Inference reads its own copy of the initial running statistics.
      ALD_ASSERT_OK_AND_ASSIGN(auto inf_mean_dev, Upload(run_mean0));
      ALD_ASSERT_OK_AND_ASSIGN(auto inf_var_dev, Upload(run_var0));
      ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, Upload(dy));
      ALD_ASSERT_OK_AND_ASSIGN(auto y_dev, DeviceBuffer<float>::Create(input.num_elements()));
      ALD_ASSERT_OK_AND_ASSIGN(auto y_inf_dev, DeviceBuffer<float>::Create(input.num_elements()));
      ALD_ASSERT_OK_AND_ASSIGN(auto dx_dev, DeviceBuffer<float>::Create(input.num_elements()));
      ALD_ASSERT_OK_AND_ASSIGN(auto mean_dev, DeviceBuffer<float>::Create(c));
      ALD_ASSERT_OK_AND_ASSIGN(auto inv_std_dev, DeviceBuffer<float>::Create(c));
      ALD_ASSERT_OK_AND_ASSIGN(auto dgamma_dev, DeviceBuffer<float>::Create(c));
      ALD_ASSERT_OK_AND_ASSIGN(auto dbeta_dev, DeviceBuffer<float>::Create(c));

      ALD_ASSERT_OK(op->ForwardTraining(x_dev.data(), gamma_dev.data(), beta_dev.data(),
                                        y_dev.data(), mean_dev.data(), inv_std_dev.data(),
                                        run_mean_dev.data(), run_var_dev.data()));
      ALD_ASSERT_OK(op->ForwardInference(x_dev.data(), gamma_dev.data(), beta_dev.data(),
                                         inf_mean_dev.data(), inf_var_dev.data(),
                                         y_inf_dev.data()));
      if (fuse_relu) {
        ALD_ASSERT_OK(op->FusedReluBackward(y_dev.data(), dy_dev.data(), dy_dev.data()));
      }
      ALD_ASSERT_OK(op->Backward(x_dev.data(), gamma_dev.data(), mean_dev.data(),
                                 inv_std_dev.data(), dy_dev.data(), dx_dev.data(),
                                 dgamma_dev.data(), dbeta_dev.data()));
      ALD_ASSERT_OK(handles->Synchronize());

      ALD_ASSERT_OK_AND_ASSIGN(auto y, Download(y_dev));
      ALD_ASSERT_OK_AND_ASSIGN(auto mean, Download(mean_dev));
      ALD_ASSERT_OK_AND_ASSIGN(auto inv_std, Download(inv_std_dev));
      ALD_ASSERT_OK_AND_ASSIGN(auto run_mean, Download(run_mean_dev));
      ALD_ASSERT_OK_AND_ASSIGN(auto run_var, Download(run_var_dev));
      ALD_ASSERT_OK_AND_ASSIGN(auto y_inf, Download(y_inf_dev));
      ALD_ASSERT_OK_AND_ASSIGN(auto dx, Download(dx_dev));
      ALD_ASSERT_OK_AND_ASSIGN(auto dgamma, Download(dgamma_dev));
      ALD_ASSERT_OK_AND_ASSIGN(auto dbeta, Download(dbeta_dev));
      EXPECT_TRUE(AllClose(y, y_ref, kAtol, kRtol)) << "training forward";
      EXPECT_TRUE(AllClose(mean, mean_ref, kAtol, kRtol)) << "saved mean";
      EXPECT_TRUE(AllClose(inv_std, inv_std_ref, kAtol, kRtol)) << "saved inverse std";
      EXPECT_TRUE(AllClose(run_mean, run_mean_ref, kAtol, kRtol)) << "running mean";
      EXPECT_TRUE(AllClose(run_var, run_var_ref, kAtol, kRtol))
          << "running variance (expects PyTorch's unbiased M/(M-1) convention)";
      EXPECT_TRUE(AllClose(y_inf, y_inf_ref, kAtol, kRtol)) << "inference forward";
      EXPECT_TRUE(AllClose(dx, dx_ref, kAtol, kRtol)) << "dx";
      EXPECT_TRUE(AllClose(dgamma, dgamma_ref, kAtol, kRtol)) << "dgamma";
      EXPECT_TRUE(AllClose(dbeta, dbeta_ref, kAtol, kRtol)) << "dbeta";
    }
  }
}

TEST(BatchNorm2dCudaTest, RejectsBadShapesAndSingleValueTraining) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(FailsWith(BatchNorm2dCuda::Create(*handles, {2, 3, 4}, {}).status(), "batchnorm2d"));
  BatchNorm2dAttrs bad_momentum;
  bad_momentum.momentum = 1.5f;
  EXPECT_TRUE(FailsWith(BatchNorm2dCuda::Create(*handles, {2, 3, 4, 4}, bad_momentum).status(),
                        "momentum"));
  ALD_ASSERT_OK_AND_ASSIGN(auto op, BatchNorm2dCuda::Create(*handles, {1, 3, 1, 1}, {}));
  EXPECT_TRUE(FailsWith(
      op->ForwardTraining(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr),
      "batchnorm2d: training needs more than one value per channel (input "
      "[1, 3, 1, 1])"));
}

}  // namespace
}  // namespace ald::cuda
