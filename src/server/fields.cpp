#include "server/fields.h"

#include <fmt/format.h>

namespace gs::server {

const boost::json::value* Fields::get(std::string_view key) const {
  const boost::json::value* v = object_.if_contains(key);
  return (v && !v->is_null()) ? v : nullptr;
}

void Fields::fail(std::string_view key, std::string message) {
  if (!error_) error_ = bad_request(std::move(message), name(key));
}

std::optional<double> Fields::number(std::string_view key, double min, double max) {
  const boost::json::value* v = get(key);
  if (!v || error_) return std::nullopt;
  double x = 0;
  if (v->is_double()) {
    x = v->get_double();
  } else if (v->is_int64()) {
    x = static_cast<double>(v->get_int64());
  } else if (v->is_uint64()) {
    x = static_cast<double>(v->get_uint64());
  } else {
    fail(key, fmt::format("'{}' must be a number", name(key)));
    return std::nullopt;
  }
  if (!(x >= min && x <= max)) {
    fail(key, fmt::format("'{}' is {} but must be between {} and {}", name(key), x, min, max));
    return std::nullopt;
  }
  return x;
}

std::optional<int64_t> Fields::integer(std::string_view key, int64_t min, int64_t max) {
  const boost::json::value* v = get(key);
  if (!v || error_) return std::nullopt;
  int64_t x = 0;
  if (v->is_int64()) {
    x = v->get_int64();
  } else if (v->is_uint64()) {
    x = v->get_uint64() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX
                                                           : static_cast<int64_t>(v->get_uint64());
  } else if (v->is_double() &&
             v->get_double() == static_cast<double>(static_cast<int64_t>(v->get_double()))) {
    x = static_cast<int64_t>(v->get_double());
  } else {
    fail(key, fmt::format("'{}' must be an integer", name(key)));
    return std::nullopt;
  }
  if (x < min || x > max) {
    fail(key, fmt::format("'{}' is {} but must be between {} and {}", name(key), x, min, max));
    return std::nullopt;
  }
  return x;
}

std::optional<bool> Fields::boolean(std::string_view key) {
  const boost::json::value* v = get(key);
  if (!v || error_) return std::nullopt;
  if (!v->is_bool()) {
    fail(key, fmt::format("'{}' must be a boolean", name(key)));
    return std::nullopt;
  }
  return v->get_bool();
}

std::optional<std::string> Fields::string(std::string_view key) {
  const boost::json::value* v = get(key);
  if (!v || error_) return std::nullopt;
  if (!v->is_string()) {
    fail(key, fmt::format("'{}' must be a string", name(key)));
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::optional<std::vector<std::string>> Fields::strings(std::string_view key, size_t max_count) {
  const boost::json::value* v = get(key);
  if (!v || error_) return std::nullopt;
  std::vector<std::string> out;
  if (v->is_string()) {
    out.emplace_back(v->get_string());
  } else if (v->is_array()) {
    for (const auto& item : v->get_array()) {
      if (!item.is_string()) {
        fail(key, fmt::format("'{}' must be a string or an array of strings", name(key)));
        return std::nullopt;
      }
      out.emplace_back(item.get_string());
    }
  } else {
    fail(key, fmt::format("'{}' must be a string or an array of strings", name(key)));
    return std::nullopt;
  }
  if (out.size() > max_count) {
    fail(key, fmt::format("'{}' has {} entries; at most {} are allowed", name(key), out.size(), max_count));
    return std::nullopt;
  }
  return out;
}

}  // namespace gs::server
