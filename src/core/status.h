// The one error type of genstack: a Status (ok, or a one-line message) and
// Result<T> (a value, or the Status that says why there is none).
// Exceptions are not used inside the libraries; the CLI turns a failed Status
// into one readable line and a non-zero exit.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace gs {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !message_.has_value(); }
  const std::string& message() const {
    static const std::string kOk = "ok";
    return message_ ? *message_ : kOk;
  }
  // Prefixes context ("reading foo.gguf: ") to an error; no-op when ok.
  Status with_context(std::string_view context) const {
    if (ok()) return *this;
    return Error(std::string(context) + ": " + *message_);
  }

 private:
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

template <typename... Args>
Status Error(fmt::format_string<Args...> format, Args&&... args) {
  return Status::Error(fmt::format(format, std::forward<Args>(args)...));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result constructed from an ok Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const std::string& error() const { return status_.message(); }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace gs

#define GS_CONCAT_INNER(a, b) a##b
#define GS_CONCAT(a, b) GS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` failed.
#define GS_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::gs::Status gs_status_ = (expr);        \
    if (!gs_status_.ok()) return gs_status_; \
  } while (0)

// `GS_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define GS_ASSIGN_OR_RETURN(lhs, expr) GS_ASSIGN_OR_RETURN_IMPL(GS_CONCAT(gs_result_, __LINE__), lhs, expr)
#define GS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
