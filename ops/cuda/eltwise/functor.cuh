// For an element-wise function's .cu file in this folder: grid-stride kernels and their launches
// made from a functor, registered under the function's name:
//   struct Gelu {
//     __device__ static float Forward(float x) { ... }
//     __device__ static float Backward(float saved, float dy) { ... }  // saved: x or y
//   };
//   [[maybe_unused]] const bool registered = RegisterFunctor<Gelu>("gelu");
#pragma once

#include <algorithm>
#include <cstdint>

#include "ops/cuda/eltwise/registry.h"

namespace ald::cuda::eltwise {

template <typename F>
__global__ void FunctorForwardKernel(const float* x, float* y, int64_t n) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    y[i] = F::Forward(x[i]);
  }
}

template <typename F>
__global__ void FunctorBackwardKernel(const float* saved, const float* dy, float* dx, int64_t n) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    dx[i] = F::Backward(saved[i], dy[i]);
  }
}

// Enough blocks of 256 to fill the GPU, never more than n needs (as kernels.cu).
inline unsigned int FunctorBlocks(int64_t n) {
  return static_cast<unsigned int>(std::clamp<int64_t>((n + 255) / 256, 1, 4096));
}

template <typename F>
cudaError_t FunctorForward(const float* x, float* y, int64_t n, cudaStream_t stream) {
  FunctorForwardKernel<F><<<FunctorBlocks(n), 256, 0, stream>>>(x, y, n);
  return cudaGetLastError();
}

template <typename F>
cudaError_t FunctorBackward(const float* saved, const float* dy, float* dx, int64_t n,
                            cudaStream_t stream) {
  FunctorBackwardKernel<F><<<FunctorBlocks(n), 256, 0, stream>>>(saved, dy, dx, n);
  return cudaGetLastError();
}

template <typename F>
bool RegisterFunctor(const char* name) {
  CudaFunction function;
  function.name = name;
  function.forward = &FunctorForward<F>;
  function.backward = &FunctorBackward<F>;
  return Register(function);
}

}  // namespace ald::cuda::eltwise
