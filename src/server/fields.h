// Typed reads of request JSON fields with OpenAI-style validation errors:
// the first wrong field is remembered and reported; later reads are no-ops.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "server/api_error.h"

namespace gs::server {

class Fields {
 public:
  explicit Fields(const boost::json::object& object, std::string prefix = {})
      : object_(object), prefix_(std::move(prefix)) {}

  const boost::json::value* get(std::string_view key) const;  // null when absent or JSON null
  std::optional<double> number(std::string_view key, double min, double max);
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  // A string or an array of strings ("stop").
  std::optional<std::vector<std::string>> strings(std::string_view key, size_t max_count);

  void fail(std::string_view key, std::string message);
  bool ok() const { return !error_; }
  const std::optional<ApiError>& error() const { return error_; }

 private:
  std::string name(std::string_view key) const { return prefix_ + std::string(key); }
  const boost::json::object& object_;
  std::string prefix_;
  std::optional<ApiError> error_;
};

}  // namespace gs::server
