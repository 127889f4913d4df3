// Element-wise functions y = f(x) by name: each is one file here (relu.cc) that registers its
// reference in double and its oneDNN algorithm, so the graph, the reference executor and the
// oneDNN lowering handle every one of them as OpType::kElementwise without per-function code.
// CUDA registers its own half under the same name (ops/cuda/eltwise/registry.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace ald::eltwise {

// Which forward value the derivative reads. The output lets the forward run in place and its
// input be reused (relu); the input is what most derivatives need.
enum class Saved { kInput, kOutput };

struct Function {
  std::string name;  // the DSL's name: ModelBuilder::Elementwise("relu", x)
  Saved saved = Saved::kInput;
  // The ground truth, in double: y = forward(x); dx = backward(x or y as `saved`, dy).
  double (*forward)(double x) = nullptr;
  double (*backward)(double saved, double dy) = nullptr;
  // oneDNN's eltwise algorithm for both passes (a *_use_dst_for_bwd one iff saved is kOutput),
  // and its alpha and beta.
  dnnl::algorithm onednn = dnnl::algorithm::undef;
  float alpha = 0.f, beta = 0.f;
};

// For a function's file, at namespace scope:
//   [[maybe_unused]] const bool registered = Register({...});
// (the library is alwayslink, so every file's static initialiser runs). Returns false, and
// keeps the first, when the name is taken.
bool Register(Function function);

// The registered function of that name, or null.
const Function* Find(std::string_view name);

// Every registered name, sorted (for error messages and tests).
std::vector<std::string> Names();

}  // namespace ald::eltwise
