#include "ops/cpu/softmax_cross_entropy.h"

#include <cmath>

#include "core/status.h"
#include "ops/class_labels.h"
#include "ops/cpu/dnnl_util.h"
#include "ops/softmax_cross_entropy.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<SoftmaxCrossEntropyCpu>> SoftmaxCrossEntropyCpu::Create(
    const Shape& logits) {
  const Shape labels = logits.rank() >= 1 ? Shape{logits[0]} : Shape{};
  RETURN_IF_ERROR(SoftmaxCrossEntropyShape(logits, DType::kF32, labels, DType::kI32).status());
  auto kernel = std::unique_ptr<SoftmaxCrossEntropyCpu>(new SoftmaxCrossEntropyCpu());
  kernel->logits_shape_ = logits;
  RETURN_IF_ERROR(GuardDnnl("softmax_cross_entropy: building primitives", [&]() -> absl::Status {
    kernel->desc_ = PlainDesc(logits);
    dnnl::softmax_v2_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::softmax_log, kernel->desc_,
         kernel->desc_, /*softmax_axis=*/1},
        Engine());
    kernel->log_softmax_ = dnnl::softmax_v2_forward(pd);
    return absl::OkStatus();
  }));
  return kernel;
}

absl::Status SoftmaxCrossEntropyCpu::CheckLabels(const std::string& what,
                                                 const Tensor& labels) const {
  RETURN_IF_ERROR(CheckTensor(what, "labels", labels, Shape{logits_shape_[0]}, DType::kI32));
  return CheckLabelValues(what, labels, logits_shape_[1]);
}

absl::Status SoftmaxCrossEntropyCpu::Forward(const Tensor& logits, const Tensor& labels,
                                             Tensor& log_probs, Tensor& loss) {
  const std::string what = "softmax_cross_entropy forward";
  RETURN_IF_ERROR(CheckTensor(what, "logits", logits, logits_shape_));
  RETURN_IF_ERROR(CheckTensor(what, "log_probs", log_probs, logits_shape_));
  RETURN_IF_ERROR(CheckTensor(what, "loss", loss, Shape{}));
  RETURN_IF_ERROR(CheckLabels(what, labels));
  RETURN_IF_ERROR(GuardDnnl(what, [&] {
    log_softmax_.execute(Stream(), {{DNNL_ARG_SRC, MemoryAs(desc_, logits)},
                                    {DNNL_ARG_DST, MemoryAs(desc_, log_probs)}});
    return absl::OkStatus();
  }));
  const int64_t rows = logits_shape_[0], classes = logits_shape_[1];
  const float* log_p = log_probs.data<float>();
  const int32_t* label = labels.data<int32_t>();
  // Summed in double: a float sum over a large batch would lose the small per-row terms.
  double sum = 0;
  for (int64_t row = 0; row < rows; ++row) sum -= log_p[row * classes + label[row]];
  loss.data<float>()[0] = static_cast<float>(sum / static_cast<double>(rows));
  return absl::OkStatus();
}

absl::Status SoftmaxCrossEntropyCpu::Backward(const Tensor& log_probs, const Tensor& labels,
                                              const Tensor& dloss, Tensor& dlogits) {
  const std::string what = "softmax_cross_entropy backward";
  RETURN_IF_ERROR(CheckTensor(what, "log_probs", log_probs, logits_shape_));
  RETURN_IF_ERROR(CheckTensor(what, "dloss", dloss, Shape{}));
  RETURN_IF_ERROR(CheckTensor(what, "dlogits", dlogits, logits_shape_));
  RETURN_IF_ERROR(CheckLabels(what, labels));
  const int64_t rows = logits_shape_[0], classes = logits_shape_[1];
  const float scale = dloss.data<float>()[0] / static_cast<float>(rows);
  const float* log_p = log_probs.data<float>();
  const int32_t* label = labels.data<int32_t>();
  float* grad = dlogits.data<float>();
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t k = 0; k < classes; ++k) {
      const int64_t i = row * classes + k;
      grad[i] = (std::exp(log_p[i]) - (k == label[row] ? 1.0f : 0.0f)) * scale;
    }
  }
  return absl::OkStatus();
}

}  // namespace ald::cpu
