// What one training worker trains: its compiled model on one device (the CPU's oneDNN plan, or
// a GPU plan under --comm=nccl), seen the same way by the training loop. The host
// ParameterStore is the copy that checkpoints, evaluation and the CPU algorithms read; a GPU
// model keeps its own copy on the device and syncs the two where the loop says so.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "comm/algorithms/algorithm.h"
#include "comm/communicator.h"
#include "comm/topology/topology.h"
#include "core/trace.h"
#include "data/dataset.h"
#include "graph/compiler.h"
#include "graph/parameter_store.h"
#include "graph/step_plan.h"
#include "ops/dropout.h"
#include "ops/sgd.h"
#include "tools/trainer/test_accuracy.h"

namespace ald {

class WorkerModel {
 public:
  virtual ~WorkerModel() = default;

  virtual ParameterStore& store() = 0;
  // The batch, on the host: the loader fills these before each Run.
  virtual Tensor& input() = 0;
  virtual Tensor& labels() = 0;
  // The training plan (forward, loss and backward of the batch in input() and labels()) as the
  // step scheduler runs it.
  virtual StepPlan& step_plan() = 0;
  virtual int64_t correct() const = 0;
  // A single worker's optimizer step on all parameters (no algorithm).
  virtual absl::Status LocalSgd(const cpu::SgdConfig& sgd) = 0;
  // How many of `test`'s examples (of `shard`'s batches) the current parameters classify right,
  // on the model's own device (a GPU model reads its device parameters: after SyncFromHost when
  // the host store was changed).
  virtual absl::StatusOr<EvalCounts> Evaluate(const Dataset& test, EvalShard shard) = 0;

  // Brings the host store up to date with the device (parameters, momentum, running
  // statistics), or the device with the host store; no-ops on the CPU.
  virtual absl::Status SyncToHost() { return absl::OkStatus(); }
  virtual absl::Status SyncFromHost() { return absl::OkStatus(); }

  // The distributed algorithm for this model's memory: the CPU algorithms work on the host
  // store through `host_comm`; a GPU model brings its own over `device_comm`.
  virtual absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(
      const std::string& name, const AlgorithmContext& host_context, Communicator* device_comm) = 0;
};

// The CPU model: CompileModel's training and evaluation plans sharing one store; `trace` (may be
// null) records its kernels as worker `rank`.
absl::StatusOr<std::unique_ptr<WorkerModel>> CreateCpuWorkerModel(const ModelGraph& train_graph,
                                                                  const ModelGraph& eval_graph,
                                                                  const CompileOptions& options,
                                                                  Trace* trace, int rank);

// The GPU model (built only under --config=cuda; otherwise Unimplemented saying so): the CUDA
// training and evaluation plans on the current device (the evaluation plan reads the training
// plan's parameters). Its
// algorithms: those the registry marks as running on a GPU (comm/algorithms/registry.h).
absl::StatusOr<std::unique_ptr<WorkerModel>> CreateCudaWorkerModel(const ModelGraph& train_graph,
                                                                   const ModelGraph& eval_graph,
                                                                   const CompileOptions& options);

// The NCCL communicator of this process's worker over the ranks of `bootstrap` (MPI), on GPU
// local-rank mod device-count, which it makes the current device (the same build condition).
absl::StatusOr<std::unique_ptr<Communicator>> CreateDeviceCommunicator(Communicator& bootstrap,
                                                                       const CommOptions& options);

}  // namespace ald
