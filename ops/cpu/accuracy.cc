#include "ops/cpu/accuracy.h"

#include "core/status.h"
#include "ops/class_labels.h"
#include "ops/cpu/dnnl_util.h"
#include "ops/ref/accuracy.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<AccuracyCpu>> AccuracyCpu::Create(const Shape& logits) {
  const Shape labels = logits.rank() >= 1 ? Shape{logits[0]} : Shape{};
  RETURN_IF_ERROR(AccuracyShape(logits, DType::kF32, labels, DType::kI32).status());
  auto kernel = std::unique_ptr<AccuracyCpu>(new AccuracyCpu());
  kernel->logits_shape_ = logits;
  return kernel;
}

absl::StatusOr<AccuracyResult> AccuracyCpu::Forward(const Tensor& logits,
                                                    const Tensor& labels) const {
  const std::string what = "accuracy forward";
  RETURN_IF_ERROR(CheckTensor(what, "logits", logits, logits_shape_));
  RETURN_IF_ERROR(CheckTensor(what, "labels", labels, Shape{logits_shape_[0]}, DType::kI32));
  RETURN_IF_ERROR(CheckLabelValues(what, labels, logits_shape_[1]));
  return AccuracyResult{.correct = ref::CountCorrect<float>(
                            logits_shape_[1], logits.values<float>(), labels.values<int32_t>()),
                        .total = logits_shape_[0]};
}

}  // namespace ald::cpu
