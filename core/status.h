// Status helpers: early-return macros for absl::Status / absl::StatusOr (this abseil has none).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ALD_CONCAT_INNER(a, b) a##b
#define ALD_CONCAT(a, b) ALD_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status ald_status_ = (expr);           \
    if (!ald_status_.ok()) return ald_status_;     \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` declares x from an OK StatusOr, or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(ALD_CONCAT(ald_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
