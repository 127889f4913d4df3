// The weight (and bias) gradient of a bf16 channels-last convolution as one oneDNN matmul over an
// im2col copy of its input, for the layers where oneDNN 2.6.3's own bf16 backward-weights is
// slow: its AMX kernel (the only bf16 one for NHWC) takes 10-60x the matmul's time on small
// images with many channels (VGG-11's 512-channel 4x4 layer, batch 64: about 580 ms against
// 55 ms). oneDNN has no im2col for this, so that copy is hand-written; the product is not.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/conv2d.h"

namespace ald::cpu {

class Im2colWeightGradCpu {
 public:
  // The fixed rule (shapes only, so the same flags always take the same path and give the same
  // bits): at least 128 input channels and at most 64 output pixels per image, where the probe
  // in the commit that added this measured the matmul faster (1.4x at 128->256 8x8, 10x at
  // 512->512 4x4); ResNet's <= 64-channel layers stay on oneDNN's AMX kernel.
  static bool Pays(const Conv2dShapes& shapes);

  // Builds the matmul, the bias reduction and the reorder into plain OIHW, and allocates the
  // im2col and product buffers once.
  static absl::StatusOr<std::unique_ptr<Im2colWeightGradCpu>> Create(const Conv2dShapes& shapes,
                                                                     const Conv2dAttrs& attrs);

  // x [N, C, H, W] and dy [N, K, H', W'] bf16 in NHWC bytes; dw plain f32 [K, C, R, S]; db plain
  // f32 [K] when the convolution has a bias (otherwise not touched).
  absl::Status Run(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor& db);

 private:
  Im2colWeightGradCpu() = default;
  // cols[(n*H' + i)*W' + j][(r*S + s)*C + c] = x[n, i*sh + r - ph, j*sw + s - pw, c], 0 outside.
  void Im2col(const uint16_t* x, uint16_t* cols) const;

  Conv2dShapes shapes_;
  Conv2dAttrs attrs_;
  dnnl::matmul multiply_;         // product[K, RSC] = dy^T[K, P] x cols[P, RSC]
  dnnl::reduction bias_sum_;      // db[K] = sum over P of dy[P, K]
  dnnl::reorder to_oihw_;         // the product (OHWI) into the caller's plain OIHW
  dnnl::memory::desc dy_t_, dy_rows_, db_row_;
  dnnl::memory cols_, product_, product_ohwi_;  // product_ohwi_: product_'s bytes as OHWI
};

}  // namespace ald::cpu
