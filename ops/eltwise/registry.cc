#include "ops/eltwise/registry.h"

#include <algorithm>
#include <map>

namespace ald::eltwise {
namespace {

// Function-local so that registrations from other files' static initialisers find it built.
std::map<std::string, Function, std::less<>>& Functions() {
  static auto* functions = new std::map<std::string, Function, std::less<>>();
  return *functions;
}

}  // namespace

bool Register(Function function) {
  std::string name = function.name;
  return Functions().emplace(std::move(name), std::move(function)).second;
}

const Function* Find(std::string_view name) {
  const auto& functions = Functions();
  const auto it = functions.find(name);
  return it == functions.end() ? nullptr : &it->second;
}

std::vector<std::string> Names() {
  std::vector<std::string> names;
  for (const auto& [name, function] : Functions()) names.push_back(name);
  return names;
}

}  // namespace ald::eltwise
