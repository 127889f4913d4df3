// Every element-wise function on CUDA: the function comes from both registries (ops/eltwise for
// what its backward reads, ops/cuda/eltwise for how it runs) by the node's name for it, so a new
// function needs nothing here.
#include "absl/strings/str_cat.h"
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/eltwise.h"
#include "ops/eltwise/registry.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::string& name = std::get<ElementwiseAttrs>(node.attrs).function;
  const eltwise::CudaFunction* function = eltwise::Find(name);
  if (function == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(node.name, ": no CUDA element-wise function ", name));
  }
  const ValueId x = node.inputs[0];
  ASSIGN_OR_RETURN(EltwiseCuda * kernel,
                   b.Own(index, EltwiseCuda::Create(b.handles(), *function, b.shape(x))));
  return lowering::UnaryForward(b, index, kernel);
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(EltwiseCuda * kernel, b.kernel<EltwiseCuda>(step.node));
  const Node& node = b.node(step.node);
  const std::string& name = std::get<ElementwiseAttrs>(node.attrs).function;
  const ald::eltwise::Function* function = ald::eltwise::Find(name);
  if (function == nullptr) {
    return absl::NotFoundError(absl::StrCat(node.name, ": no element-wise function ", name));
  }
  const ValueId saved =
      function->saved == ald::eltwise::Saved::kOutput ? node.outputs[0] : node.inputs[0];
  const ValueId dy = step.output_grad, dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  b.Add(node.name + " backward", true, {saved, dy}, {dx}, [=](CudaPlan& p) {
    return kernel->Backward(p.ptr<float>(saved), p.ptr<float>(dy), p.ptr<float>(dx));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> ElementwiseCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
