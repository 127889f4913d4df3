// The CUDA half of the element-wise functions (ops/eltwise/registry.h), by the same names: each
// function is one file here, registering either a cuDNN activation (relu.cc) or a device functor
// (a .cu file, see functor.cuh). Plain C++ that nvcc also compiles: no absl.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cuda_runtime_api.h"
#include "cudnn.h"

namespace ald::cuda::eltwise {

// On n fp32 elements in `stream`; return the launch status. `saved` is x or y, as the
// function's ops/eltwise registration says.
using ForwardLaunch = cudaError_t (*)(const float* x, float* y, int64_t n, cudaStream_t stream);
using BackwardLaunch = cudaError_t (*)(const float* saved, const float* dy, float* dx, int64_t n,
                                       cudaStream_t stream);

struct CudaFunction {
  std::string name;  // as in ops/eltwise
  // cuDNN's activation when set; its backward gets the one saved value as both x and y, so
  // only modes whose derivative that value determines (relu from y) belong here.
  bool cudnn = false;
  cudnnActivationMode_t cudnn_mode = CUDNN_ACTIVATION_IDENTITY;
  double cudnn_coef = 0;
  // Otherwise these (functor.cuh makes them from a functor).
  ForwardLaunch forward = nullptr;
  BackwardLaunch backward = nullptr;
};

// As ald::eltwise::Register: `[[maybe_unused]] const bool registered = Register({...});` at
// namespace scope of an alwayslink library's file. False, keeping the first, if the name is taken.
bool Register(CudaFunction function);

// The registered function of that name, or null.
const CudaFunction* Find(std::string_view name);

}  // namespace ald::cuda::eltwise
