#include "ops/cpu/im2col_weight_grad.h"

#include <cstring>

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

bool Im2colWeightGradCpu::Pays(const Conv2dShapes& shapes) {
  return shapes.input[1] >= 128 && shapes.output[2] * shapes.output[3] <= 64;
}

absl::StatusOr<std::unique_ptr<Im2colWeightGradCpu>> Im2colWeightGradCpu::Create(
    const Conv2dShapes& shapes, const Conv2dAttrs& attrs) {
  auto kernel = std::unique_ptr<Im2colWeightGradCpu>(new Im2colWeightGradCpu());
  kernel->shapes_ = shapes;
  kernel->attrs_ = attrs;
  const int64_t k = shapes.weight[0], c = shapes.weight[1], r = shapes.weight[2],
                s = shapes.weight[3];
  const int64_t pixels = shapes.output[0] * shapes.output[2] * shapes.output[3];
  const int64_t row = r * s * c;
  RETURN_IF_ERROR(GuardDnnl("conv2d im2col backward weights: building", [&]() -> absl::Status {
    Im2colWeightGradCpu& g = *kernel;
    // dy in NHWC is [P, K] row-major; the matmul reads it transposed through strides.
    g.dy_rows_ = memory::desc({pixels, k}, dt::bf16, tag::ab);
    g.dy_t_ = memory::desc({k, pixels}, dt::bf16, memory::dims{1, k});
    const memory::desc cols({pixels, row}, dt::bf16, tag::ab), product({k, row}, dt::f32, tag::ab);
    g.multiply_ = dnnl::matmul(dnnl::matmul::primitive_desc({g.dy_t_, cols, product}, Engine()));
    g.cols_ = memory(cols, Engine());
    g.product_ = memory(product, Engine());
    // The product's rows are (r, s, c) per output channel: OHWI, viewed as such for the reorder.
    const memory::dims weight = {k, c, r, s};
    g.product_ohwi_ = memory({weight, dt::f32, tag::ohwi}, Engine(), g.product_.get_data_handle());
    g.to_oihw_ = dnnl::reorder(g.product_ohwi_,
                               memory({weight, dt::f32, tag::oihw}, Engine(), DNNL_MEMORY_NONE));
    if (attrs.bias) {
      g.db_row_ = memory::desc({1, k}, dt::f32, tag::ab);
      g.bias_sum_ = dnnl::reduction(dnnl::reduction::primitive_desc(
          dnnl::reduction::desc(dnnl::algorithm::reduction_sum, g.dy_rows_, g.db_row_, 0.f, 0.f),
          Engine()));
    }
    return absl::OkStatus();
  }));
  return kernel;
}

void Im2colWeightGradCpu::Im2col(const uint16_t* x, uint16_t* cols) const {
  const int64_t batch = shapes_.input[0], channels = shapes_.input[1],
                height = shapes_.input[2], width = shapes_.input[3];
  const int64_t kernel_h = shapes_.weight[2], kernel_w = shapes_.weight[3];
  const int64_t out_h = shapes_.output[2], out_w = shapes_.output[3];
  const size_t run = static_cast<size_t>(channels) * sizeof(uint16_t);  // one pixel's channels
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t i = 0; i < out_h; ++i) {
      for (int64_t j = 0; j < out_w; ++j) {
        uint16_t* target = cols + ((n * out_h + i) * out_w + j) * kernel_h * kernel_w * channels;
        for (int64_t r = 0; r < kernel_h; ++r) {
          const int64_t h = i * attrs_.stride[0] + r - attrs_.padding[0];
          for (int64_t s = 0; s < kernel_w; ++s, target += channels) {
            const int64_t w = j * attrs_.stride[1] + s - attrs_.padding[1];
            if (h < 0 || h >= height || w < 0 || w >= width) {
              std::memset(target, 0, run);
            } else {
              std::memcpy(target, x + ((n * height + h) * width + w) * channels, run);
            }
          }
        }
      }
    }
  }
}

absl::Status Im2colWeightGradCpu::Run(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor& db) {
  const std::string op = "conv2d im2col backward weights";
  RETURN_IF_ERROR(CheckTensor(op, "x", x, shapes_.input, DType::kBF16));
  RETURN_IF_ERROR(CheckTensor(op, "dy", dy, shapes_.output, DType::kBF16));
  RETURN_IF_ERROR(CheckTensor(op, "dw", dw, shapes_.weight));
  if (attrs_.bias) RETURN_IF_ERROR(CheckTensor(op, "db", db, shapes_.bias));
  Im2col(static_cast<const uint16_t*>(x.raw_data()), static_cast<uint16_t*>(cols_.get_data_handle()));
  return GuardDnnl(op, [&] {
    const memory dy_t = MemoryAs(dy_t_, dy);
    multiply_.execute(Stream(), {{DNNL_ARG_SRC, dy_t},
                                {DNNL_ARG_WEIGHTS, cols_},
                                {DNNL_ARG_DST, product_}});
    to_oihw_.execute(Stream(), {{DNNL_ARG_FROM, product_ohwi_}, {DNNL_ARG_TO, PlainMemory(dw)}});
    if (attrs_.bias) {
      bias_sum_.execute(Stream(), {{DNNL_ARG_SRC, MemoryAs(dy_rows_, dy)},
                                   {DNNL_ARG_DST, MemoryAs(db_row_, db)}});
    }
    return absl::OkStatus();
  });
}

}  // namespace ald::cpu
