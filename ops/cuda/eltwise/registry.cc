#include "ops/cuda/eltwise/registry.h"

#include <map>

namespace ald::cuda::eltwise {
namespace {

// Function-local so that registrations from other files' static initialisers find it built.
std::map<std::string, CudaFunction, std::less<>>& Functions() {
  static auto* functions = new std::map<std::string, CudaFunction, std::less<>>();
  return *functions;
}

}  // namespace

bool Register(CudaFunction function) {
  std::string name = function.name;
  return Functions().emplace(std::move(name), std::move(function)).second;
}

const CudaFunction* Find(std::string_view name) {
  const auto& functions = Functions();
  const auto it = functions.find(name);
  return it == functions.end() ? nullptr : &it->second;
}

}  // namespace ald::cuda::eltwise
