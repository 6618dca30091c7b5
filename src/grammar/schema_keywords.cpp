#include "grammar/schema_keywords.h"

#include <array>
#include <cmath>

#include "grammar/grammar_internal.h"
#include "grammar/json_values.h"

namespace gs::grammar {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 23> kSupported = {"type",
                                                         "enum",
                                                         "const",
                                                         "properties",
                                                         "required",
                                                         "additionalProperties",
                                                         "items",
                                                         "prefixItems",
                                                         "additionalItems",
                                                         "minItems",
                                                         "maxItems",
                                                         "minLength",
                                                         "maxLength",
                                                         "pattern",
                                                         "format",
                                                         "minimum",
                                                         "maximum",
                                                         "exclusiveMinimum",
                                                         "exclusiveMaximum",
                                                         "anyOf",
                                                         "oneOf",
                                                         "allOf",
                                                         "$ref"};

constexpr std::array<std::string_view, 20> kUnsupported = {"not",
                                                           "if",
                                                           "then",
                                                           "else",
                                                           "patternProperties",
                                                           "propertyNames",
                                                           "dependentRequired",
                                                           "dependentSchemas",
                                                           "dependencies",
                                                           "minProperties",
                                                           "maxProperties",
                                                           "uniqueItems",
                                                           "contains",
                                                           "minContains",
                                                           "maxContains",
                                                           "multipleOf",
                                                           "unevaluatedProperties",
                                                           "unevaluatedItems",
                                                           "$dynamicRef",
                                                           "$recursiveRef"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view key) {
  for (std::string_view k : list) {
    if (k == key) return true;
  }
  return false;
}

// Date and time per RFC 3339 (section 5.6), without checking days per month.
constexpr std::string_view kDate = R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))";
constexpr std::string_view kTime =
    R"(([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d))";

}  // namespace

bool is_supported_keyword(std::string_view key) { return contains(kSupported, key); }
bool is_unsupported_keyword(std::string_view key) { return contains(kUnsupported, key); }

std::string child_path(std::string_view path, std::string_view key) {
  std::string out(path);
  out += '/';
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

Status check_keywords(const json::object& schema, std::string_view path) {
  for (const auto& [key, value] : schema) {
    if (is_unsupported_keyword(key)) {
      return Error("{}: schema keyword '{}' is not supported", path, std::string_view(key));
    }
  }
  return Status::Ok();
}

Result<const json::value*> resolve_ref(const json::value& root, const json::value& ref,
                                       std::string_view path) {
  if (!ref.is_string()) return Error("{}: '$ref' must be a string", path);
  const std::string_view target = ref.get_string();
  if (target.empty() || target[0] != '#') {
    return Error("{}: $ref '{}': only references inside the schema ('#/...') are supported", path, target);
  }
  if (target.size() > 1 && target[1] != '/') {
    return Error("{}: $ref '{}': anchors are not supported, only '#/...' pointers", path, target);
  }
  boost::system::error_code ec;
  const json::value* found = root.find_pointer(target.substr(1), ec);
  if (!found || ec) return Error("{}: $ref '{}' does not point into the schema", path, target);
  return found;
}

Result<uint8_t> parse_types(const json::value& type, std::string_view path) {
  auto one = [&](const json::value& name) -> Result<uint8_t> {
    if (!name.is_string()) return Error("{}: 'type' must be a string or an array of strings", path);
    const std::string_view s = name.get_string();
    if (s == "null") return kNull;
    if (s == "boolean") return kBool;
    if (s == "integer") return kInteger;
    if (s == "number") return static_cast<uint8_t>(kNumber | kInteger);
    if (s == "string") return kString;
    if (s == "object") return kObject;
    if (s == "array") return kArray;
    return Error("{}: unknown type '{}'", path, s);
  };
  if (!type.is_array()) return one(type);
  uint8_t types = 0;
  for (const json::value& t : type.get_array()) {
    GS_ASSIGN_OR_RETURN(uint8_t bits, one(t));
    types |= bits;
  }
  return types;
}

uint8_t implied_types(const json::object& schema) {
  uint8_t types = 0;
  for (std::string_view k : {"properties", "required", "additionalProperties"}) {
    if (schema.contains(k)) types |= kObject;
  }
  for (std::string_view k : {"items", "prefixItems", "additionalItems", "minItems", "maxItems"}) {
    if (schema.contains(k)) types |= kArray;
  }
  for (std::string_view k : {"minLength", "maxLength", "pattern"}) {
    if (schema.contains(k)) types |= kString;
  }
  if (const json::value* f = schema.if_contains("format");
      f && f->is_string() && !format_pattern(f->get_string()).empty()) {
    types |= kString;
  }
  for (std::string_view k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
    if (schema.contains(k)) types |= kNumber | kInteger;
  }
  return types ? types : kAllTypes;
}

std::string_view format_pattern(std::string_view format) {
  static const std::string date = "^" + std::string(kDate) + "$";
  static const std::string time = "^" + std::string(kTime) + "$";
  static const std::string date_time = "^" + std::string(kDate) + "[Tt]" + std::string(kTime) + "$";
  if (format == "date") return date;
  if (format == "time") return time;
  if (format == "date-time") return date_time;
  if (format == "uuid")
    return "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
  if (format == "email") {
    return "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
           "@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$";
  }
  if (format == "ipv4")
    return R"(^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$)";
  return {};
}

Result<uint32_t> count_keyword(const json::object& schema, std::string_view key, std::string_view path,
                               uint32_t fallback) {
  const json::value* v = schema.if_contains(key);
  if (!v) return fallback;
  if (!v->is_number() || !is_integer(*v) || as_double(*v) < 0) {
    return Error("{}: '{}' must be a non-negative integer", path, key);
  }
  const double d = as_double(*v);
  return d >= 4294967294.0 ? uint32_t{4294967294u} : static_cast<uint32_t>(d);
}

Result<NumberBounds> number_bounds(const json::object& schema, std::string_view path) {
  NumberBounds b;
  auto number = [&](std::string_view key, double* out) -> Result<bool> {
    const json::value* v = schema.if_contains(key);
    if (!v || v->is_bool()) return false;
    if (!v->is_number()) return Error("{}: '{}' must be a number", path, key);
    *out = as_double(*v);
    return true;
  };
  auto flag = [&](std::string_view key) {
    const json::value* v = schema.if_contains(key);
    return v && v->is_bool() && v->get_bool();
  };
  double x = 0;
  GS_ASSIGN_OR_RETURN(bool has, number("minimum", &x));
  if (has) b.has_min = true, b.minimum = x, b.min_exclusive = flag("exclusiveMinimum");
  GS_ASSIGN_OR_RETURN(has, number("exclusiveMinimum", &x));
  if (has && (!b.has_min || x >= b.minimum)) b.has_min = true, b.minimum = x, b.min_exclusive = true;
  GS_ASSIGN_OR_RETURN(has, number("maximum", &x));
  if (has) b.has_max = true, b.maximum = x, b.max_exclusive = flag("exclusiveMaximum");
  GS_ASSIGN_OR_RETURN(has, number("exclusiveMaximum", &x));
  if (has && (!b.has_max || x <= b.maximum)) b.has_max = true, b.maximum = x, b.max_exclusive = true;
  return b;
}

}  // namespace gs::grammar
