// Reference accuracy: the argmax of each row against its label. Plain loops; argmax has no
// oneDNN primitive, so the CPU kernel runs this reference too.
#pragma once

#include <cstdint>
#include <span>

namespace ald::ref {

// Index of the largest of `classes` values; ties go to the lowest index (as torch.argmax on
// CPU and numpy.argmax), so a row of equal logits predicts class 0.
template <typename T>
int64_t ArgMax(std::span<const T> row) {
  int64_t best = 0;
  for (size_t k = 1; k < row.size(); ++k) {
    if (row[k] > row[best]) best = static_cast<int64_t>(k);
  }
  return best;
}

// The number of rows whose argmax equals the label.
template <typename T>
int64_t CountCorrect(int64_t classes, std::span<const T> logits, std::span<const int32_t> labels) {
  int64_t correct = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    correct += ArgMax(logits.subspan(row * classes, classes)) == labels[row] ? 1 : 0;
  }
  return correct;
}

}  // namespace ald::ref
