// The three passes of a layer with weights and an optional bias (convolution, inner product) on
// oneDNN: forward, backward-data and backward-weights primitives in the layouts they chose, with
// a Tensor API in the caller's layouts (bridged) and a native API in the chosen layouts (no
// reorder). The caller's weights are plain f32; its activations are plain f32 unless Build is
// told otherwise (a convolution between blocked activations, bf16 activations). With bf16
// activations the weights are bf16 inside the primitives: PrepareWeights casts them once into
// the forward's layout, and the *Prepared passes read that copy (backward-data too), while the
// weight and bias gradients stay f32. Conv2dCpu and LinearCpu differ only in how they describe
// their primitives.
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
// desc (the default) means plain row-major of `dtype`, the activations' element type.
struct WeightedLayerUserLayouts {
  dnnl::memory::desc src, dst;
  DType dtype = DType::kF32;
};

// A descriptor of `shape` that lets the primitive choose the layout (format_tag::any).
inline dnnl::memory::desc AnyLayout(const Shape& shape, DType dtype = DType::kF32) {
  return dnnl::memory::desc(Dims(shape), DnnlType(dtype), dnnl::memory::format_tag::any);
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
    dtype_ = user.dtype;
    user_src_ = user.src.data.ndims == 0 ? PlainDesc(shapes.input, dtype_) : user.src;
    user_dst_ = user.dst.data.ndims == 0 ? PlainDesc(shapes.output, dtype_) : user.dst;
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
    const dnnl::memory::desc& prepared = fwd_pd.weights_desc();
    prepare_weights_ = dnnl::reorder(dnnl::memory(weights, Engine(), DNNL_MEMORY_NONE),
                                     dnnl::memory(prepared, Engine(), DNNL_MEMORY_NONE));
    ASSIGN_OR_RETURN(prepared_to_bwd_data_,
                     LayoutBridge::Create(prepared, bwd_data_pd.weights_desc()));
    return absl::OkStatus();
  }

  // The copy of the weights the *Prepared passes read: the forward's weight layout and type,
  // as a flat tensor of its (possibly padded) size in elements.
  DType prepared_weights_dtype() const {
    return forward_pd_.weights_desc().data_type() == dnnl::memory::data_type::bf16
               ? DType::kBF16
               : DType::kF32;
  }
  Shape prepared_weights_shape() const {
    const size_t element = DTypeSize(prepared_weights_dtype());
    return Shape{static_cast<int64_t>((forward_pd_.weights_desc().get_size() + element - 1) /
                                      element)};
  }
  // prepared = w (plain f32) reordered, and cast, into the forward's weight layout.
  absl::Status PrepareWeights(const Tensor& w, Tensor& prepared) {
    const std::string op = op_ + " prepare weights";
    RETURN_IF_ERROR(CheckTensor(op, "w", w, shapes_.weight));
    RETURN_IF_ERROR(CheckPrepared(op, prepared));
    return GuardDnnl(op, [&] {
      prepare_weights_.execute(Stream(), {{DNNL_ARG_FROM, PlainMemory(w)},
                                          {DNNL_ARG_TO, PreparedMemory(prepared)}});
      return absl::OkStatus();
    });
  }

  // y = layer(x, w) + b (plus whatever post-ops the forward carries).
  absl::Status Forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    const std::string op = op_ + " forward";
    RETURN_IF_ERROR(CheckTensor(op, "w", w, shapes_.weight));
    return ForwardFrom(op, x, [&] { return fwd_weights_.ToWanted(PlainMemory(w)); }, b, y);
  }
  // The same from weights PrepareWeights wrote.
  absl::Status ForwardPrepared(const Tensor& x, const Tensor& prepared, const Tensor& b,
                               Tensor& y) {
    const std::string op = op_ + " forward";
    RETURN_IF_ERROR(CheckPrepared(op, prepared));
    return ForwardFrom(op, x, [&] { return PreparedMemory(prepared); }, b, y);
  }

  absl::Status BackwardData(const Tensor& dy, const Tensor& w, Tensor& dx) {
    const std::string op = op_ + " backward data";
    RETURN_IF_ERROR(CheckTensor(op, "w", w, shapes_.weight));
    return BackwardDataFrom(op, dy, [&] { return bwd_data_weights_.ToWanted(PlainMemory(w)); },
                            dx);
  }
  // The same from weights PrepareWeights wrote (reordered again only where backward-data
  // chose another layout than the forward).
  absl::Status BackwardDataPrepared(const Tensor& dy, const Tensor& prepared, Tensor& dx) {
    const std::string op = op_ + " backward data";
    RETURN_IF_ERROR(CheckPrepared(op, prepared));
    return BackwardDataFrom(
        op, dy, [&] { return prepared_to_bwd_data_.ToWanted(PreparedMemory(prepared)); }, dx);
  }

  // dw, and db when the layer has a bias (otherwise `db` is not touched and may be undefined).
  absl::Status BackwardWeights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor& db) {
    const std::string op = op_ + " backward weights";
    RETURN_IF_ERROR(CheckTensor(op, "x", x, shapes_.input, dtype_));
    RETURN_IF_ERROR(CheckTensor(op, "dy", dy, shapes_.output, dtype_));
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
  dnnl::memory PreparedMemory(const Tensor& prepared) const {
    return MemoryAs(forward_pd_.weights_desc(), prepared);
  }
  absl::Status CheckPrepared(const std::string& op, const Tensor& prepared) const {
    return CheckTensor(op, "prepared weights", prepared, prepared_weights_shape(),
                       prepared_weights_dtype());
  }

  // Forward and backward-data with the weights' memory from `weights` (plain and bridged, or
  // prepared); called after the weights were checked.
  template <typename WeightsMemory>
  absl::Status ForwardFrom(const std::string& op, const Tensor& x, WeightsMemory weights,
                           const Tensor& b, Tensor& y) {
    RETURN_IF_ERROR(CheckTensor(op, "x", x, shapes_.input, dtype_));
    if (bias_) RETURN_IF_ERROR(CheckTensor(op, "b", b, shapes_.bias));
    RETURN_IF_ERROR(CheckTensor(op, "y", y, shapes_.output, dtype_));
    return GuardDnnl(op, [&] {
      const dnnl::memory y_user = MemoryAs(user_dst_, y);
      RunForward(fwd_src_.ToWanted(MemoryAs(user_src_, x)), weights(), PlainBias(b),
                 fwd_dst_.WantedFor(y_user));
      fwd_dst_.FromWanted(y_user);
      return absl::OkStatus();
    });
  }
  template <typename WeightsMemory>
  absl::Status BackwardDataFrom(const std::string& op, const Tensor& dy, WeightsMemory weights,
                                Tensor& dx) {
    RETURN_IF_ERROR(CheckTensor(op, "dy", dy, shapes_.output, dtype_));
    RETURN_IF_ERROR(CheckTensor(op, "dx", dx, shapes_.input, dtype_));
    return GuardDnnl(op, [&] {
      const dnnl::memory dx_user = MemoryAs(user_src_, dx);
      RunBackwardData(bwd_data_diff_dst_.ToWanted(MemoryAs(user_dst_, dy)), weights(),
                      bwd_data_diff_src_.WantedFor(dx_user));
      bwd_data_diff_src_.FromWanted(dx_user);
      return absl::OkStatus();
    });
  }

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
  DType dtype_ = DType::kF32;  // of x, y and their gradients
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
  // Plain f32 weights into the forward's layout and type; that copy into backward-data's.
  dnnl::reorder prepare_weights_;
  LayoutBridge prepared_to_bwd_data_;
};

}  // namespace ald::cpu
