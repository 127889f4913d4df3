// The three passes of a layer with weights and an optional bias (convolution, inner product) on
// oneDNN: forward, backward-data and backward-weights primitives in the layouts they chose, with
// a Tensor API in the caller's layouts (bridged) and a native API in the chosen layouts (no
// reorder). The caller's weights are plain; its activations are plain unless Build is told
// otherwise (a convolution between blocked activations). Conv2dCpu and LinearCpu differ only in
// how they describe their primitives.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "core/status.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

// The plain shapes a layer's passes see; `bias` is only read when the layer has one.
struct WeightedLayerShapes {
  Shape input, weight, bias, output;
};

// The layouts of the Tensor API's activations: `src` for x and dx, `dst` for y and dy. A zero
// desc (the default) means plain row-major.
struct WeightedLayerUserLayouts {
  dnnl::memory::desc src, dst;
};

// An f32 descriptor of `shape` that lets the primitive choose the layout (format_tag::any).
inline dnnl::memory::desc AnyLayout(const Shape& shape) {
  return dnnl::memory::desc(Dims(shape), dnnl::memory::data_type::f32,
                            dnnl::memory::format_tag::any);
}

template <typename Fwd, typename BwdData, typename BwdWeights>
class WeightedLayerPasses {
 public:
  // Builds the primitives and the bridges between the caller's layouts and the chosen ones
  // (scratch allocated here, once; none where they agree). `op` prefixes every error
  // ("conv2d"). Call inside GuardDnnl.
  absl::Status Build(std::string op, const WeightedLayerShapes& shapes, bool bias,
                     typename Fwd::primitive_desc fwd_pd,
                     typename BwdData::primitive_desc bwd_data_pd,
                     typename BwdWeights::primitive_desc bwd_weights_pd,
                     const WeightedLayerUserLayouts& user = {}) {
    op_ = std::move(op);
    shapes_ = shapes;
    bias_ = bias;
    forward_pd_ = fwd_pd;
    backward_data_pd_ = bwd_data_pd;
    backward_weights_pd_ = bwd_weights_pd;
    forward_ = Fwd(forward_pd_);
    backward_data_ = BwdData(backward_data_pd_);
    backward_weights_ = BwdWeights(backward_weights_pd_);
    user_src_ = user.src.data.ndims == 0 ? PlainDesc(shapes.input) : user.src;
    user_dst_ = user.dst.data.ndims == 0 ? PlainDesc(shapes.output) : user.dst;
    const dnnl::memory::desc &src = user_src_, &dst = user_dst_;
    const dnnl::memory::desc weights = PlainDesc(shapes.weight);
    ASSIGN_OR_RETURN(fwd_src_, LayoutBridge::Create(src, fwd_pd.src_desc()));
    ASSIGN_OR_RETURN(fwd_weights_, LayoutBridge::Create(weights, fwd_pd.weights_desc()));
    ASSIGN_OR_RETURN(fwd_dst_, LayoutBridge::Create(dst, fwd_pd.dst_desc()));
    ASSIGN_OR_RETURN(bwd_data_diff_dst_, LayoutBridge::Create(dst, bwd_data_pd.diff_dst_desc()));
    ASSIGN_OR_RETURN(bwd_data_weights_, LayoutBridge::Create(weights, bwd_data_pd.weights_desc()));
    ASSIGN_OR_RETURN(bwd_data_diff_src_, LayoutBridge::Create(src, bwd_data_pd.diff_src_desc()));
    ASSIGN_OR_RETURN(bwd_weights_src_, LayoutBridge::Create(src, bwd_weights_pd.src_desc()));
    ASSIGN_OR_RETURN(bwd_weights_diff_dst_,
                     LayoutBridge::Create(dst, bwd_weights_pd.diff_dst_desc()));
    ASSIGN_OR_RETURN(bwd_weights_diff_weights_,
                     LayoutBridge::Create(weights, bwd_weights_pd.diff_weights_desc()));
    return absl::OkStatus();
  }

  // y = layer(x, w) + b (plus whatever post-ops the forward carries).
  absl::Status Forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    const std::string op = op_ + " forward";
    RETURN_IF_ERROR(CheckTensor(op, "x", x, shapes_.input));
    RETURN_IF_ERROR(CheckTensor(op, "w", w, shapes_.weight));
    if (bias_) RETURN_IF_ERROR(CheckTensor(op, "b", b, shapes_.bias));
    RETURN_IF_ERROR(CheckTensor(op, "y", y, shapes_.output));
    return GuardDnnl(op, [&] {
      const dnnl::memory y_user = MemoryAs(user_dst_, y);
      RunForward(fwd_src_.ToWanted(MemoryAs(user_src_, x)),
                 fwd_weights_.ToWanted(PlainMemory(w)), PlainBias(b), fwd_dst_.WantedFor(y_user));
      fwd_dst_.FromWanted(y_user);
      return absl::OkStatus();
    });
  }

  absl::Status BackwardData(const Tensor& dy, const Tensor& w, Tensor& dx) {
    const std::string op = op_ + " backward data";
    RETURN_IF_ERROR(CheckTensor(op, "dy", dy, shapes_.output));
    RETURN_IF_ERROR(CheckTensor(op, "w", w, shapes_.weight));
    RETURN_IF_ERROR(CheckTensor(op, "dx", dx, shapes_.input));
    return GuardDnnl(op, [&] {
      const dnnl::memory dx_user = MemoryAs(user_src_, dx);
      RunBackwardData(bwd_data_diff_dst_.ToWanted(MemoryAs(user_dst_, dy)),
                      bwd_data_weights_.ToWanted(PlainMemory(w)),
                      bwd_data_diff_src_.WantedFor(dx_user));
      bwd_data_diff_src_.FromWanted(dx_user);
      return absl::OkStatus();
    });
  }

  // dw, and db when the layer has a bias (otherwise `db` is not touched and may be undefined).
  absl::Status BackwardWeights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor& db) {
    const std::string op = op_ + " backward weights";
    RETURN_IF_ERROR(CheckTensor(op, "x", x, shapes_.input));
    RETURN_IF_ERROR(CheckTensor(op, "dy", dy, shapes_.output));
    RETURN_IF_ERROR(CheckTensor(op, "dw", dw, shapes_.weight));
    if (bias_) RETURN_IF_ERROR(CheckTensor(op, "db", db, shapes_.bias));
    return GuardDnnl(op, [&] {
      const dnnl::memory dw_plain = PlainMemory(dw);
      RunBackwardWeights(bwd_weights_src_.ToWanted(MemoryAs(user_src_, x)),
                         bwd_weights_diff_dst_.ToWanted(MemoryAs(user_dst_, dy)),
                         bwd_weights_diff_weights_.WantedFor(dw_plain), PlainBias(db));
      bwd_weights_diff_weights_.FromWanted(dw_plain);
      return absl::OkStatus();
    });
  }

  // Native passes: memories already in the primitives' layouts; bias and diff_bias plain.
  absl::Status ForwardNative(const dnnl::memory& src, const dnnl::memory& weights,
                             const dnnl::memory& bias, const dnnl::memory& dst) {
    return GuardDnnl(op_ + " forward", [&] {
      RunForward(src, weights, bias, dst);
      return absl::OkStatus();
    });
  }
  absl::Status BackwardDataNative(const dnnl::memory& diff_dst, const dnnl::memory& weights,
                                  const dnnl::memory& diff_src) {
    return GuardDnnl(op_ + " backward data", [&] {
      RunBackwardData(diff_dst, weights, diff_src);
      return absl::OkStatus();
    });
  }
  absl::Status BackwardWeightsNative(const dnnl::memory& src, const dnnl::memory& diff_dst,
                                     const dnnl::memory& diff_weights,
                                     const dnnl::memory& diff_bias) {
    return GuardDnnl(op_ + " backward weights", [&] {
      RunBackwardWeights(src, diff_dst, diff_weights, diff_bias);
      return absl::OkStatus();
    });
  }

  const typename Fwd::primitive_desc& forward_pd() const { return forward_pd_; }
  const typename BwdData::primitive_desc& backward_data_pd() const { return backward_data_pd_; }
  const typename BwdWeights::primitive_desc& backward_weights_pd() const {
    return backward_weights_pd_;
  }

 private:
  dnnl::memory PlainBias(const Tensor& b) const { return bias_ ? PlainMemory(b) : dnnl::memory(); }

  void RunForward(const dnnl::memory& src, const dnnl::memory& weights, const dnnl::memory& bias,
                  const dnnl::memory& dst) {
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
    if (bias_) args[DNNL_ARG_BIAS] = bias;
    forward_.execute(Stream(), args);
  }
  void RunBackwardData(const dnnl::memory& diff_dst, const dnnl::memory& weights,
                       const dnnl::memory& diff_src) {
    backward_data_.execute(Stream(), {{DNNL_ARG_DIFF_DST, diff_dst},
                                      {DNNL_ARG_WEIGHTS, weights},
                                      {DNNL_ARG_DIFF_SRC, diff_src}});
  }
  void RunBackwardWeights(const dnnl::memory& src, const dnnl::memory& diff_dst,
                          const dnnl::memory& diff_weights, const dnnl::memory& diff_bias) {
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_weights}};
    if (bias_) args[DNNL_ARG_DIFF_BIAS] = diff_bias;
    backward_weights_.execute(Stream(), args);
  }

  std::string op_;
  WeightedLayerShapes shapes_;
  dnnl::memory::desc user_src_, user_dst_;
  bool bias_ = false;
  typename Fwd::primitive_desc forward_pd_;
  typename BwdData::primitive_desc backward_data_pd_;
  typename BwdWeights::primitive_desc backward_weights_pd_;
  Fwd forward_;
  BwdData backward_data_;
  BwdWeights backward_weights_;
  // One bridge per (pass, tensor): the passes may choose different layouts for one tensor.
  LayoutBridge fwd_src_, fwd_weights_, fwd_dst_;
  LayoutBridge bwd_data_diff_dst_, bwd_data_weights_, bwd_data_diff_src_;
  LayoutBridge bwd_weights_src_, bwd_weights_diff_dst_, bwd_weights_diff_weights_;
};

}  // namespace ald::cpu
