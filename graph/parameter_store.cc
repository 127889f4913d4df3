#include "graph/parameter_store.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/rng.h"
#include "core/status.h"

namespace ald {
namespace {

// A view of `count` floats at `offset` of `flat`, shaped `shape`.
absl::StatusOr<Tensor> ViewInto(Tensor& flat, size_t offset, const Shape& shape) {
  ASSIGN_OR_RETURN(Tensor slice, flat.Slice(static_cast<int64_t>(offset),
                                            static_cast<int64_t>(offset) + shape.num_elements()));
  return slice.Reshape(shape);
}

void Fill(Tensor& tensor, const ParameterInit& init, Rng& rng) {
  switch (init.rule) {
    case ParameterInit::Rule::kKaimingNormal:
      FillNormal(tensor, 0.0f, static_cast<float>(std::sqrt(2.0 / init.fan_in)), rng);
      break;
    case ParameterInit::Rule::kUniform:
      FillUniform(tensor, static_cast<float>(-init.bound), static_cast<float>(init.bound), rng);
      break;
    case ParameterInit::Rule::kConstant:
      tensor.Fill(static_cast<float>(init.value));
      break;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ParameterStore>> ParameterStore::Create(
    const TrainingGraph& training, size_t bucket_cap_bytes, size_t min_buckets) {
  const ModelGraph& graph = training.graph;
  auto store = std::unique_ptr<ParameterStore>(new ParameterStore());
  store->inits_ = graph.inits;
  store->views_.resize(graph.values.size());
  store->names_.resize(graph.values.size());
  for (size_t v = 0; v < graph.values.size(); ++v) store->names_[v] = graph.values[v].name;

  // Gradient-ready order: the order in which the backward steps write parameter gradients.
  for (const BackwardStep& step : training.backward) {
    const Node& node = graph.nodes[step.node];
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (graph.value(node.inputs[i]).role == ValueRole::kParameter &&
          step.input_grads[i] != kNoValue) {
        store->layout_.push_back(node.inputs[i]);
      }
    }
  }
  if (store->layout_.size() != graph.parameters.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameter store: ", graph.parameters.size(), " parameters but ", store->layout_.size(),
        " have gradients; build the store from a training graph"));
  }
  int64_t total = 0;
  for (ValueId p : store->layout_) total += graph.value(p).shape.num_elements();
  ASSIGN_OR_RETURN(store->parameters_, Tensor::Create(Shape{total}));
  ASSIGN_OR_RETURN(store->gradients_, Tensor::Create(Shape{total}));
  ASSIGN_OR_RETURN(store->momentum_, Tensor::Create(Shape{total}));

  size_t offset = 0;
  const size_t share = (static_cast<size_t>(total) + min_buckets - 1) / std::max<size_t>(1, min_buckets);
  const size_t cap_floats = std::max<size_t>(1, std::min(bucket_cap_bytes / sizeof(float), share));
  for (ValueId p : store->layout_) {
    const Shape& shape = graph.value(p).shape;
    const size_t count = static_cast<size_t>(shape.num_elements());
    ASSIGN_OR_RETURN(store->views_[p], ViewInto(store->parameters_, offset, shape));
    ASSIGN_OR_RETURN(store->views_[training.grad[p]], ViewInto(store->gradients_, offset, shape));
    if (store->buckets_.empty() ||
        (store->buckets_.back().size + count > cap_floats && store->buckets_.back().size > 0)) {
      store->buckets_.push_back({static_cast<int>(store->buckets_.size()), offset, 0, {}});
    }
    store->buckets_.back().size += count;
    store->buckets_.back().parameters.push_back(p);
    offset += count;
  }
  if (min_buckets > 1) store->SplitLastBucket(graph, cap_floats / 4);

  store->running_stats_ = graph.running_stats;
  int64_t running_total = 0;
  for (ValueId r : graph.running_stats) running_total += graph.value(r).shape.num_elements();
  ASSIGN_OR_RETURN(store->running_, Tensor::Create(Shape{running_total}));
  offset = 0;
  for (ValueId r : graph.running_stats) {
    ASSIGN_OR_RETURN(store->views_[r], ViewInto(store->running_, offset, graph.value(r).shape));
    offset += static_cast<size_t>(graph.value(r).shape.num_elements());
  }
  return store;
}

bool ParameterStore::Holds(ValueId value) const {
  return value >= 0 && static_cast<size_t>(value) < views_.size() && views_[value].defined();
}

void ParameterStore::Initialize(uint64_t seed) {
  // Each parameter draws from its own counter range (its graph id), so adding or reordering
  // parameters elsewhere does not change how the others start.
  for (ValueId p : layout_) {
    Rng rng(seed, 0, static_cast<uint32_t>(p), RngStream::kInit);
    Fill(views_[p], inits_[p], rng);
  }
  for (ValueId r : running_stats_) {
    Rng rng(seed, 0, static_cast<uint32_t>(r), RngStream::kInit);
    Fill(views_[r], inits_[r], rng);
  }
  gradients_.SetZero();
  momentum_.SetZero();
}

void ParameterStore::SplitLastBucket(const ModelGraph& graph, size_t tail_floats) {
  // The last bucket holds the first layers: ready last in backward, needed first by the next
  // forward, which waits for its whole exchange before it can start. Its tail (the very first
  // layers) goes into a bucket of its own of at most `tail_floats` (at least one parameter).
  if (buckets_.empty() || buckets_.back().parameters.size() < 2) return;
  Bucket& last = buckets_.back();
  size_t tail = 0, kept = last.parameters.size();
  while (kept > 1) {
    const size_t count =
        static_cast<size_t>(graph.value(last.parameters[kept - 1]).shape.num_elements());
    if (tail > 0 && tail + count > tail_floats) break;
    tail += count;
    --kept;
  }
  if (kept == last.parameters.size()) return;
  Bucket split{static_cast<int>(buckets_.size()), last.offset + last.size - tail, tail,
               std::vector<ValueId>(last.parameters.begin() + static_cast<long>(kept),
                                    last.parameters.end())};
  last.parameters.resize(kept);
  last.size -= tail;
  buckets_.push_back(std::move(split));
}

}  // namespace ald
