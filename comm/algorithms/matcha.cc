// MATCHA (Wang et al., 2019): D-PSGD's rule over the matchings active at each step. Every
// worker draws the same matchings from the topology's shared seed, so they agree on the edges
// without messages, and a step with no active matching skips communication (Dpsgd does both).
#include "comm/algorithms/registry.h"
#include "comm/algorithms/dpsgd.h"
#include "core/status.h"

namespace ald {

absl::StatusOr<std::unique_ptr<Algorithm>> MakeMatchaSgd(const AlgorithmContext& context) {
  RETURN_IF_ERROR(Dpsgd::CheckContext(context, "matcha"));
  RETURN_IF_ERROR(Dpsgd::RequireScheme(context, Scheme::kMatcha, "matcha"));
  return std::make_unique<Dpsgd>(context, "matcha");
}

}  // namespace ald
