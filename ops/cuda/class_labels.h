// The label check shared by the GPU softmax_cross_entropy and accuracy: their kernels record
// the first row with a label outside [0, classes); this reads it back and words the error as
// the CPU's CheckLabelValues does.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "cuda_runtime_api.h"

namespace ald::cuda {

// Waits for `stream` (the flag is written by a kernel on it), then OK if *first_bad_row is -1,
// else InvalidArgument "OP: labels[i] = v is outside [0, classes)".
absl::Status ReadLabelCheck(const std::string& op, const int32_t* first_bad_row,
                            const int32_t* labels, int64_t classes, cudaStream_t stream);

// The error for a row already known to be bad (the plan reads the flags with its results):
// reads that label back (waiting for `stream`) and words the error the same way.
absl::Status LabelOutOfRange(const std::string& op, int32_t bad_row, const int32_t* labels,
                             int64_t classes, cudaStream_t stream);

}  // namespace ald::cuda
