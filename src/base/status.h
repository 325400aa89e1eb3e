// Status helpers shared by every library: the RETURN_IF_ERROR / ASSIGN_OR_RETURN macros
// used at each boundary, and small constructors for the error codes Mercato maps to
// HTTP and AWS error shapes (see api/ for that mapping). Header-only; thread-safe.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MERCATO_CONCAT_INNER_(a, b) a##b
#define MERCATO_CONCAT_(a, b) MERCATO_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status _mercato_status = (expr);           \
    if (!_mercato_status.ok()) return _mercato_status; \
  } while (0)

// ASSIGN_OR_RETURN(auto x, Foo()); evaluates a StatusOr and either binds its value or
// returns its status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(MERCATO_CONCAT_(_mercato_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()
