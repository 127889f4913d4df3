#include "ops/cpu/batchnorm2d.h"

#include <algorithm>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald::cpu {

using dnnl::memory;
using dnnl::normalization_flags;
using dnnl::prop_kind;

absl::StatusOr<std::unique_ptr<BatchNorm2dCpu>> BatchNorm2dCpu::Create(
    const Shape& input, const BatchNorm2dAttrs& attrs, const memory::desc& data_layout) {
  const memory::desc plain = PlainDesc(input);
  return Make(input, attrs, data_layout.data.ndims == 0 ? plain : data_layout, plain);
}

absl::StatusOr<std::unique_ptr<BatchNorm2dCpu>> BatchNorm2dCpu::Create(
    const Shape& input, const BatchNorm2dAttrs& attrs, ActivationLayout layout, DType dtype) {
  RETURN_IF_ERROR(CheckLayout("batchnorm2d", input, layout));
  const memory::desc desc = ActivationDesc(input, layout, dtype);
  ASSIGN_OR_RETURN(std::unique_ptr<BatchNorm2dCpu> kernel, Make(input, attrs, desc, desc));
  kernel->dtype_ = dtype;
  return kernel;
}

absl::StatusOr<std::unique_ptr<BatchNorm2dCpu>> BatchNorm2dCpu::Make(
    const Shape& input, const BatchNorm2dAttrs& attrs, const memory::desc& data,
    const memory::desc& tensors) {
  ASSIGN_OR_RETURN(BatchNorm2dShapes shapes, InferBatchNorm2d(input, attrs));
  auto kernel = std::unique_ptr<BatchNorm2dCpu>(new BatchNorm2dCpu());
  kernel->shapes_ = shapes;
  kernel->attrs_ = attrs;
  kernel->data_layout_ = data;
  kernel->tensor_layout_ = tensors;
  if (kernel->data_layout_.dims() != Dims(input)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batchnorm2d: the data layout's dims differ from the input ", input.ToString()));
  }
  RETURN_IF_ERROR(kernel->BuildPrimitives());
  return kernel;
}

absl::Status BatchNorm2dCpu::BuildPrimitives() {
  return GuardDnnl("batchnorm2d: building primitives", [&]() -> absl::Status {
    normalization_flags flags = normalization_flags::use_scale | normalization_flags::use_shift;
    if (attrs_.fuse_relu) flags = flags | normalization_flags::fuse_norm_relu;
    const memory::desc& data = data_layout_;
    training_pd_ = dnnl::batch_normalization_forward::primitive_desc(
        {prop_kind::forward_training, data, attrs_.eps, flags}, Engine());
    training_ = dnnl::batch_normalization_forward(training_pd_);
    inference_ = dnnl::batch_normalization_forward(dnnl::batch_normalization_forward::primitive_desc(
        {prop_kind::forward_inference, data, attrs_.eps,
         flags | normalization_flags::use_global_stats},
        Engine()));
    backward_ = dnnl::batch_normalization_backward(dnnl::batch_normalization_backward::primitive_desc(
        {prop_kind::backward, data, data, attrs_.eps, flags}, Engine(), training_pd_));
    if (attrs_.fuse_relu) workspace_ = memory(training_pd_.workspace_desc(), Engine());
    backward_shift_ = memory(PlainDesc(shapes_.channel), Engine());
    std::fill_n(static_cast<float*>(backward_shift_.get_data_handle()), shapes_.channel[0], 0.f);
    for (LayoutBridge* bridge : {&x_, &y_, &dy_, &dx_}) {
      ASSIGN_OR_RETURN(*bridge, LayoutBridge::Create(tensor_layout_, data));
    }
    return absl::OkStatus();
  });
}

absl::Status BatchNorm2dCpu::CheckChannelTensors(
    const std::string& op,
    std::initializer_list<std::pair<const char*, const Tensor*>> tensors) const {
  for (const auto& [role, tensor] : tensors) {
    RETURN_IF_ERROR(CheckTensor(op, role, *tensor, shapes_.channel));
  }
  return absl::OkStatus();
}

void BatchNorm2dCpu::UpdateRunningStatistics(float momentum, int64_t per_channel,
                                             const Tensor& mean, const Tensor& var,
                                             Tensor& running_mean, Tensor& running_var) {
  const double unbias = static_cast<double>(per_channel) / static_cast<double>(per_channel - 1);
  const float* batch_mean = mean.data<float>();
  const float* batch_var = var.data<float>();
  float* run_mean = running_mean.data<float>();
  float* run_var = running_var.data<float>();
  for (int64_t c = 0; c < mean.num_elements(); ++c) {
    run_mean[c] = (1 - momentum) * run_mean[c] + momentum * batch_mean[c];
    run_var[c] = static_cast<float>((1 - momentum) * run_var[c] + momentum * batch_var[c] * unbias);
  }
}

absl::Status BatchNorm2dCpu::ForwardTraining(const Tensor& x, const Tensor& gamma,
                                             const Tensor& beta, Tensor& y, Tensor& mean,
                                             Tensor& var, Tensor& running_mean,
                                             Tensor& running_var) {
  const char* op = "batchnorm2d forward training";
  RETURN_IF_ERROR(CheckTensor(op, "x", x, shapes_.input, dtype_));
  RETURN_IF_ERROR(CheckTensor(op, "y", y, shapes_.input, dtype_));
  return GuardDnnl(op, [&]() -> absl::Status {
    const memory y_user = UserMemory(y);
    RETURN_IF_ERROR(ForwardTrainingNative(x_.ToWanted(UserMemory(x)), gamma, beta,
                                          y_.WantedFor(y_user), mean, var, running_mean,
                                          running_var));
    y_.FromWanted(y_user);
    return absl::OkStatus();
  });
}

absl::Status BatchNorm2dCpu::ForwardTrainingNative(const memory& src, const Tensor& gamma,
                                                   const Tensor& beta, const memory& dst,
                                                   Tensor& mean, Tensor& var, Tensor& running_mean,
                                                   Tensor& running_var) {
  const char* op = "batchnorm2d forward training";
  RETURN_IF_ERROR(CheckBatchNorm2dTraining(shapes_.input));
  RETURN_IF_ERROR(CheckChannelTensors(op, {{"gamma", &gamma}, {"beta", &beta}, {"mean", &mean},
                                           {"var", &var}, {"running_mean", &running_mean},
                                           {"running_var", &running_var}}));
  RETURN_IF_ERROR(GuardDnnl(op, [&] {
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src},         {DNNL_ARG_DST, dst},
        {DNNL_ARG_SCALE, PlainMemory(gamma)}, {DNNL_ARG_SHIFT, PlainMemory(beta)},
        {DNNL_ARG_MEAN, PlainMemory(mean)},   {DNNL_ARG_VARIANCE, PlainMemory(var)}};
    if (attrs_.fuse_relu) args[DNNL_ARG_WORKSPACE] = workspace_;
    training_.execute(Stream(), args);
    return absl::OkStatus();
  }));
  UpdateRunningStatistics(attrs_.momentum, shapes_.input.num_elements() / shapes_.input[1], mean,
                          var, running_mean, running_var);
  return absl::OkStatus();
}

absl::Status BatchNorm2dCpu::ForwardInference(const Tensor& x, const Tensor& gamma,
                                              const Tensor& beta, const Tensor& running_mean,
                                              const Tensor& running_var, Tensor& y) {
  const char* op = "batchnorm2d forward inference";
  RETURN_IF_ERROR(CheckTensor(op, "x", x, shapes_.input, dtype_));
  RETURN_IF_ERROR(CheckTensor(op, "y", y, shapes_.input, dtype_));
  return GuardDnnl(op, [&]() -> absl::Status {
    const memory y_user = UserMemory(y);
    RETURN_IF_ERROR(ForwardInferenceNative(x_.ToWanted(UserMemory(x)), gamma, beta,
                                           running_mean, running_var, y_.WantedFor(y_user)));
    y_.FromWanted(y_user);
    return absl::OkStatus();
  });
}

absl::Status BatchNorm2dCpu::ForwardInferenceNative(const memory& src, const Tensor& gamma,
                                                    const Tensor& beta, const Tensor& running_mean,
                                                    const Tensor& running_var, const memory& dst) {
  const char* op = "batchnorm2d forward inference";
  RETURN_IF_ERROR(CheckChannelTensors(op, {{"gamma", &gamma}, {"beta", &beta},
                                           {"running_mean", &running_mean},
                                           {"running_var", &running_var}}));
  return GuardDnnl(op, [&] {
    inference_.execute(Stream(), {{DNNL_ARG_SRC, src},
                                  {DNNL_ARG_DST, dst},
                                  {DNNL_ARG_SCALE, PlainMemory(gamma)},
                                  {DNNL_ARG_SHIFT, PlainMemory(beta)},
                                  {DNNL_ARG_MEAN, PlainMemory(running_mean)},
                                  {DNNL_ARG_VARIANCE, PlainMemory(running_var)}});
    return absl::OkStatus();
  });
}

absl::Status BatchNorm2dCpu::Backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                      const Tensor& var, const Tensor& dy, Tensor& dx,
                                      Tensor& dgamma, Tensor& dbeta) {
  const char* op = "batchnorm2d backward";
  RETURN_IF_ERROR(CheckTensor(op, "x", x, shapes_.input, dtype_));
  RETURN_IF_ERROR(CheckTensor(op, "dy", dy, shapes_.input, dtype_));
  RETURN_IF_ERROR(CheckTensor(op, "dx", dx, shapes_.input, dtype_));
  return GuardDnnl(op, [&]() -> absl::Status {
    const memory dx_user = UserMemory(dx);
    RETURN_IF_ERROR(BackwardNative(x_.ToWanted(UserMemory(x)), gamma, mean, var,
                                   dy_.ToWanted(UserMemory(dy)), dx_.WantedFor(dx_user), dgamma,
                                   dbeta));
    dx_.FromWanted(dx_user);
    return absl::OkStatus();
  });
}

absl::Status BatchNorm2dCpu::BackwardNative(const memory& src, const Tensor& gamma,
                                            const Tensor& mean, const Tensor& var,
                                            const memory& diff_dst, const memory& diff_src,
                                            Tensor& dgamma, Tensor& dbeta) {
  const char* op = "batchnorm2d backward";
  RETURN_IF_ERROR(CheckChannelTensors(op, {{"gamma", &gamma}, {"mean", &mean}, {"var", &var},
                                           {"dgamma", &dgamma}, {"dbeta", &dbeta}}));
  return GuardDnnl(op, [&] {
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_DIFF_DST, diff_dst},
        {DNNL_ARG_DIFF_SRC, diff_src},
        {DNNL_ARG_SCALE, PlainMemory(gamma)},
        {DNNL_ARG_MEAN, PlainMemory(mean)},
        {DNNL_ARG_VARIANCE, PlainMemory(var)},
        {DNNL_ARG_DIFF_SCALE, PlainMemory(dgamma)},
        {DNNL_ARG_DIFF_SHIFT, PlainMemory(dbeta)},
        {DNNL_ARG_SHIFT, backward_shift_}};
    if (attrs_.fuse_relu) args[DNNL_ARG_WORKSPACE] = workspace_;
    backward_.execute(Stream(), args);
    return absl::OkStatus();
  });
}

}  // namespace ald::cpu
