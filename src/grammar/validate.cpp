#include "grammar/validate.h"

#include <map>
#include <string>

#include "grammar/grammar_internal.h"
#include "grammar/json_values.h"
#include "grammar/regex.h"
#include "grammar/schema_keywords.h"
#include "core/utf8.h"

namespace gs {

namespace json = boost::json;
using namespace grammar;  // NOLINT(google-build-using-namespace)

namespace {

// Bounds recursion through the document and through $ref chains.
constexpr int kMaxValidateDepth = 512;

std::string where(std::string_view doc_path) {
  return doc_path.empty() ? std::string("document root") : "value at '" + std::string(doc_path) + "'";
}

std::string type_names(uint8_t types) {
  std::string out;
  auto add = [&](const char* name) {
    if (!out.empty()) out += " or ";
    out += name;
  };
  if (types & kNull) add("null");
  if (types & kBool) add("boolean");
  if (types & kNumber) {
    add("number");
  } else if (types & kInteger) {
    add("integer");
  }
  if (types & kString) add("string");
  if (types & kObject) add("object");
  if (types & kArray) add("array");
  return out.empty() ? "nothing" : out;
}

bool has_type(const json::value& doc, uint8_t types) {
  switch (doc.kind()) {
    case json::kind::null:
      return types & kNull;
    case json::kind::bool_:
      return types & kBool;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return (types & kNumber) || ((types & kInteger) && is_integer(doc));
    case json::kind::string:
      return types & kString;
    case json::kind::object:
      return types & kObject;
    case json::kind::array:
      return types & kArray;
  }
  return false;
}

class Validator {
 public:
  explicit Validator(const json::value& root) : root_(root) {}

  Status check(const json::value& doc, const json::value& schema, const std::string& doc_path,
               const std::string& schema_path, int depth) {
    if (depth > kMaxValidateDepth) return Error("{}: schema or document nested too deeply", schema_path);
    if (schema.is_bool()) {
      if (schema.get_bool()) return Status::Ok();
      return Error("{}: no value allowed (schema {} is false)", where(doc_path), schema_path);
    }
    if (!schema.is_object()) return Error("{}: a schema must be an object or a boolean", schema_path);
    const json::object& s = schema.get_object();
    GS_RETURN_IF_ERROR(check_keywords(s, schema_path));

    if (const json::value* ref = s.if_contains("$ref")) {
      GS_ASSIGN_OR_RETURN(const json::value* target, resolve_ref(root_, *ref, schema_path));
      GS_RETURN_IF_ERROR(check(doc, *target, doc_path, std::string(ref->get_string()), depth + 1));
    }
    GS_RETURN_IF_ERROR(combinators(doc, s, doc_path, schema_path, depth));
    if (const json::value* e = s.if_contains("enum")) {
      if (!e->is_array()) return Error("{}: 'enum' must be an array", schema_path);
      bool found = false;
      for (const json::value& v : e->get_array()) found = found || json_equal(doc, v);
      if (!found) return Error("{}: not one of the 'enum' values", where(doc_path));
    }
    if (const json::value* c = s.if_contains("const"); c && !json_equal(doc, *c)) {
      return Error("{}: not the 'const' value", where(doc_path));
    }
    if (const json::value* t = s.if_contains("type")) {
      GS_ASSIGN_OR_RETURN(uint8_t types, parse_types(*t, schema_path));
      if (!has_type(doc, types)) return Error("{}: expected {}", where(doc_path), type_names(types));
    }
    if (doc.is_string()) return check_string(doc.get_string(), s, doc_path, schema_path);
    if (doc.is_number()) return check_number(doc, s, doc_path, schema_path);
    if (doc.is_object()) return check_object(doc.get_object(), s, doc_path, schema_path, depth);
    if (doc.is_array()) return check_array(doc.get_array(), s, doc_path, schema_path, depth);
    return Status::Ok();
  }

 private:
  Status combinators(const json::value& doc, const json::object& s, const std::string& doc_path,
                     const std::string& schema_path, int depth) {
    if (const json::value* all = s.if_contains("allOf")) {
      if (!all->is_array()) return Error("{}: 'allOf' must be an array", schema_path);
      const json::array& list = all->get_array();
      for (size_t i = 0; i < list.size(); ++i) {
        GS_RETURN_IF_ERROR(check(doc, list[i], doc_path,
                                 child_path(child_path(schema_path, "allOf"), std::to_string(i)), depth + 1));
      }
    }
    for (std::string_view key : {"anyOf", "oneOf"}) {  // oneOf as anyOf, like the grammar
      const json::value* any = s.if_contains(key);
      if (!any) continue;
      if (!any->is_array()) return Error("{}: '{}' must be an array", schema_path, key);
      const json::array& list = any->get_array();
      Status first = Error("{}: '{}' has no alternatives", where(doc_path), key);
      bool matched = false;
      for (size_t i = 0; i < list.size() && !matched; ++i) {
        Status st = check(doc, list[i], doc_path, child_path(child_path(schema_path, key), std::to_string(i)),
                          depth + 1);
        matched = st.ok();
        if (i == 0) first = st;
      }
      if (!matched)
        return Error("{}: matches none of the '{}' alternatives (first: {})", where(doc_path), key,
                     first.message());
    }
    return Status::Ok();
  }

  Status check_string(std::string_view text, const json::object& s, const std::string& doc_path,
                      const std::string& schema_path) {
    GS_ASSIGN_OR_RETURN(uint32_t min, count_keyword(s, "minLength", schema_path, 0));
    GS_ASSIGN_OR_RETURN(uint32_t max, count_keyword(s, "maxLength", schema_path, kUnbounded));
    const size_t length = utf8_length(text);
    if (length < min) return Error("{}: shorter than minLength {}", where(doc_path), min);
    if (length > max) return Error("{}: longer than maxLength {}", where(doc_path), max);
    if (const json::value* p = s.if_contains("pattern")) {
      if (!p->is_string()) return Error("{}: 'pattern' must be a string", schema_path);
      GS_ASSIGN_OR_RETURN(const Dfa* dfa, regex(p->get_string(), schema_path));
      if (!dfa->matches(text)) return Error("{}: does not match the pattern", where(doc_path));
    }
    if (const json::value* f = s.if_contains("format"); f && f->is_string()) {
      const std::string_view pattern = format_pattern(f->get_string());
      if (!pattern.empty()) {
        GS_ASSIGN_OR_RETURN(const Dfa* dfa, regex(pattern, schema_path));
        if (!dfa->matches(text))
          return Error("{}: not a valid '{}'", where(doc_path), std::string_view(f->get_string()));
      }
    }
    return Status::Ok();
  }

  Status check_number(const json::value& doc, const json::object& s, const std::string& doc_path,
                      const std::string& schema_path) {
    GS_ASSIGN_OR_RETURN(NumberBounds b, number_bounds(s, schema_path));
    const double x = as_double(doc);
    if (b.has_min && (x < b.minimum || (b.min_exclusive && x == b.minimum))) {
      return Error("{}: below the minimum {}", where(doc_path), b.minimum);
    }
    if (b.has_max && (x > b.maximum || (b.max_exclusive && x == b.maximum))) {
      return Error("{}: above the maximum {}", where(doc_path), b.maximum);
    }
    return Status::Ok();
  }

  Status check_object(const json::object& doc, const json::object& s, const std::string& doc_path,
                      const std::string& schema_path, int depth) {
    if (const json::value* r = s.if_contains("required")) {
      if (!r->is_array()) return Error("{}: 'required' must be an array of strings", schema_path);
      for (const json::value& name : r->get_array()) {
        if (!name.is_string()) return Error("{}: 'required' must be an array of strings", schema_path);
        if (!doc.contains(name.get_string())) {
          return Error("{}: missing required property '{}'", where(doc_path),
                       std::string_view(name.get_string()));
        }
      }
    }
    const json::value* props = s.if_contains("properties");
    if (props && !props->is_object()) return Error("{}: 'properties' must be an object", schema_path);
    const json::value* additional = s.if_contains("additionalProperties");
    for (const auto& [key, value] : doc) {
      const std::string path = child_path(doc_path, key);
      if (const json::value* sub = props ? props->get_object().if_contains(key) : nullptr) {
        GS_RETURN_IF_ERROR(
            check(value, *sub, path, child_path(child_path(schema_path, "properties"), key), depth + 1));
      } else if (additional) {
        if (additional->is_bool() && !additional->get_bool()) {
          return Error("{}: property '{}' is not allowed", where(doc_path), std::string_view(key));
        }
        GS_RETURN_IF_ERROR(
            check(value, *additional, path, child_path(schema_path, "additionalProperties"), depth + 1));
      }
    }
    return Status::Ok();
  }

  Status check_array(const json::array& doc, const json::object& s, const std::string& doc_path,
                     const std::string& schema_path, int depth) {
    GS_ASSIGN_OR_RETURN(uint32_t min, count_keyword(s, "minItems", schema_path, 0));
    GS_ASSIGN_OR_RETURN(uint32_t max, count_keyword(s, "maxItems", schema_path, kUnbounded));
    if (doc.size() < min) return Error("{}: fewer than minItems {}", where(doc_path), min);
    if (doc.size() > max) return Error("{}: more than maxItems {}", where(doc_path), max);
    const json::array* prefix = nullptr;
    const json::value* rest = nullptr;
    std::string prefix_key = "prefixItems", rest_key = "items";
    if (const json::value* p = s.if_contains("prefixItems")) {
      if (!p->is_array()) return Error("{}: 'prefixItems' must be an array", schema_path);
      prefix = &p->get_array();
      rest = s.if_contains("items");
    } else if (const json::value* items = s.if_contains("items"); items && items->is_array()) {
      prefix = &items->get_array();  // the draft 4-2019 tuple form
      prefix_key = "items";
      rest = s.if_contains("additionalItems");
      rest_key = "additionalItems";
    } else {
      rest = s.if_contains("items");
    }
    for (size_t i = 0; i < doc.size(); ++i) {
      const std::string path = child_path(doc_path, std::to_string(i));
      if (prefix && i < prefix->size()) {
        GS_RETURN_IF_ERROR(check(doc[i], (*prefix)[i], path,
                                 child_path(child_path(schema_path, prefix_key), std::to_string(i)),
                                 depth + 1));
      } else if (rest) {
        GS_RETURN_IF_ERROR(check(doc[i], *rest, path, child_path(schema_path, rest_key), depth + 1));
      }
    }
    return Status::Ok();
  }

  Result<const Dfa*> regex(std::string_view pattern, const std::string& schema_path) {
    auto it = regexes_.find(pattern);
    if (it == regexes_.end()) {
      auto dfa = compile_regex(pattern);
      if (!dfa.ok()) return Error("{}: pattern '{}': {}", schema_path, pattern, dfa.error());
      it = regexes_.emplace(std::string(pattern), std::move(dfa).value()).first;
    }
    return &it->second;
  }

  const json::value& root_;
  std::map<std::string, Dfa, std::less<>> regexes_;
};

}  // namespace

Status validate_json(const json::value& doc, const json::value& schema) {
  return Validator(schema).check(doc, schema, "", "#", 0);
}

namespace grammar {
Status validate_in(const json::value& doc, const json::value& schema, const json::value& root,
                   const std::string& schema_path) {
  return Validator(root).check(doc, schema, "", schema_path, 0);
}
}  // namespace grammar

}  // namespace gs
