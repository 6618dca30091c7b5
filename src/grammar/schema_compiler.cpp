// JSON Schema -> Program: one node per schema (references share the node of
// their target, so recursive schemas become cycles), anyOf flattened, and
// every part that can produce no value removed so that the matcher never
// walks into a dead end.
#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include <boost/json.hpp>

#include "grammar/grammar_internal.h"
#include "grammar/json_values.h"
#include "grammar/schema_keywords.h"
#include "core/utf8.h"

namespace gs::grammar {

namespace json = boost::json;

namespace {

constexpr int kMaxSchemaDepth = 200;  // nested sub-schemas while compiling
constexpr int kMaxAliasHops = 64;     // $ref / allOf chains before a node
constexpr size_t kMaxFlattenSteps = 200000;

// The first supported (validity) keyword of `s` that is not in `allowed`.
std::string_view other_keyword(const json::object& s, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : s) {
    if (!is_supported_keyword(key)) continue;
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) return key;
  }
  return {};
}

class Compiler {
 public:
  explicit Compiler(const json::value& root) : root_(root) {}

  Result<Program> run() {
    prog_.bool_node = literal_node({"false", "true"});
    prog_.null_node = literal_node({"null"});
    GS_ASSIGN_OR_RETURN(prog_.root, node_for(root_, "#", 0, 0));
    GS_RETURN_IF_ERROR(flatten_any_of());
    GS_RETURN_IF_ERROR(prune());
    finish_nodes();
    return std::move(prog_);
  }

 private:
  uint32_t add(Node n) {
    prog_.nodes.push_back(std::move(n));
    return static_cast<uint32_t>(prog_.nodes.size() - 1);
  }
  uint32_t literal_node(std::vector<std::string> literals) {
    Node n;
    n.kind = NodeKind::kLiteral;
    n.literals = std::move(literals);
    return add(std::move(n));
  }
  uint32_t any_node() {  // the schema `true`: any value, any object keys, any items
    if (any_ == kNoNode) {
      Node n;
      n.types = kAllTypes;
      any_ = add(std::move(n));
      prog_.nodes[any_].additional = any_;
      prog_.nodes[any_].items = any_;
    }
    return any_;
  }
  uint32_t never_node() {  // the schema `false`
    if (never_ == kNoNode) never_ = add(Node{});
    return never_;
  }

  Result<uint32_t> node_for(const json::value& schema, const std::string& path, int depth, int hops) {
    if (depth > kMaxSchemaDepth) return Error("{}: schema nested too deeply", path);
    if (hops > kMaxAliasHops)
      return Error("{}: $ref/allOf chain that never reaches a schema (a cycle?)", path);
    if (schema.is_bool()) return schema.get_bool() ? any_node() : never_node();
    if (!schema.is_object()) return Error("{}: a schema must be an object or a boolean", path);
    if (auto it = memo_.find(&schema); it != memo_.end()) return it->second;
    const json::object& s = schema.get_object();
    GS_RETURN_IF_ERROR(check_keywords(s, path));

    // References and single-schema allOf are the node of their target.
    if (const json::value* ref = s.if_contains("$ref")) {
      if (std::string_view k = other_keyword(s, {"$ref"}); !k.empty()) {
        return Error("{}: '$ref' together with '{}' is not supported", path, k);
      }
      GS_ASSIGN_OR_RETURN(const json::value* target, resolve_ref(root_, *ref, path));
      GS_ASSIGN_OR_RETURN(uint32_t id,
                          node_for(*target, std::string(ref->get_string()), depth + 1, hops + 1));
      memo_[&schema] = id;
      return id;
    }
    if (const json::value* all = s.if_contains("allOf")) {
      if (!all->is_array()) return Error("{}: 'allOf' must be an array", path);
      if (all->get_array().size() != 1) {
        return Error("{}: 'allOf' with {} schemas is not supported (only one)", path,
                     all->get_array().size());
      }
      if (std::string_view k = other_keyword(s, {"allOf"}); !k.empty()) {
        return Error("{}: 'allOf' together with '{}' is not supported", path, k);
      }
      GS_ASSIGN_OR_RETURN(uint32_t id, node_for(all->get_array()[0], path + "/allOf/0", depth + 1, hops + 1));
      memo_[&schema] = id;
      return id;
    }

    const uint32_t id = add(Node{});
    memo_[&schema] = id;
    Node n;
    if (s.contains("enum") || s.contains("const")) {
      GS_ASSIGN_OR_RETURN(n, literals(schema, path));
    } else if (s.contains("anyOf") || s.contains("oneOf")) {
      GS_ASSIGN_OR_RETURN(n, any_of(s, path, depth));
    } else {
      GS_ASSIGN_OR_RETURN(n, value_node(s, path, depth));
    }
    prog_.nodes[id] = std::move(n);
    return id;
  }

  // enum/const: the listed values that pass every other keyword too.
  Result<Node> literals(const json::value& schema, const std::string& path) {
    const json::object& s = schema.get_object();
    std::vector<const json::value*> candidates;
    if (const json::value* e = s.if_contains("enum")) {
      if (!e->is_array()) return Error("{}: 'enum' must be an array", path);
      for (const json::value& v : e->get_array()) candidates.push_back(&v);
    } else {
      candidates.push_back(&s.at("const"));
    }
    Node n;
    n.kind = NodeKind::kLiteral;
    for (const json::value* v : candidates) {
      if (!validate_in(*v, schema, root_, path).ok()) continue;
      std::string text;
      if (!append_canonical(*v, text))
        return Error("{}: an enum/const value holds invalid UTF-8 or a non-finite number", path);
      n.literals.push_back(std::move(text));
    }
    std::sort(n.literals.begin(), n.literals.end());
    n.literals.erase(std::unique(n.literals.begin(), n.literals.end()), n.literals.end());
    return n;
  }

  Result<Node> any_of(const json::object& s, const std::string& path, int depth) {
    if (s.contains("anyOf") && s.contains("oneOf"))
      return Error("{}: 'anyOf' together with 'oneOf' is not supported", path);
    const std::string_view key = s.contains("anyOf") ? "anyOf" : "oneOf";  // oneOf is taken as anyOf
    if (std::string_view k = other_keyword(s, {key}); !k.empty()) {
      return Error("{}: '{}' together with '{}' is not supported", path, key, k);
    }
    const json::value& list = s.at(key);
    if (!list.is_array()) return Error("{}: '{}' must be an array", path, key);
    Node n;
    n.kind = NodeKind::kAnyOf;
    for (size_t i = 0; i < list.get_array().size(); ++i) {
      GS_ASSIGN_OR_RETURN(
          uint32_t alt,
          node_for(list.get_array()[i], child_path(child_path(path, key), std::to_string(i)), depth + 1, 0));
      n.alternatives.push_back(alt);
    }
    return n;
  }

  Result<Node> value_node(const json::object& s, const std::string& path, int depth) {
    Node n;
    if (const json::value* t = s.if_contains("type")) {
      GS_ASSIGN_OR_RETURN(n.types, parse_types(*t, path));
    } else {
      n.types = implied_types(s);
    }
    if (n.types & kString) GS_RETURN_IF_ERROR(string_keywords(s, path, n));
    if (n.types & (kInteger | kNumber)) GS_RETURN_IF_ERROR(number_keywords(s, path, n));
    if (n.types & kObject) GS_RETURN_IF_ERROR(object_keywords(s, path, depth, n));
    if (n.types & kArray) GS_RETURN_IF_ERROR(array_keywords(s, path, depth, n));
    return n;
  }

  Status string_keywords(const json::object& s, const std::string& path, Node& n) {
    GS_ASSIGN_OR_RETURN(n.min_length, count_keyword(s, "minLength", path, 0));
    GS_ASSIGN_OR_RETURN(n.max_length, count_keyword(s, "maxLength", path, kUnbounded));
    std::string_view pattern;
    if (const json::value* p = s.if_contains("pattern")) {
      if (!p->is_string()) return Error("{}: 'pattern' must be a string", path);
      pattern = p->get_string();
    }
    if (const json::value* f = s.if_contains("format");
        f && f->is_string() && !format_pattern(f->get_string()).empty()) {
      if (!pattern.empty())
        return Error("{}: 'pattern' together with format '{}' is not supported", path,
                     std::string_view(f->get_string()));
      pattern = format_pattern(f->get_string());
    }
    if (pattern.empty()) return Status::Ok();  // "" matches every string
    auto it = dfa_index_.find(pattern);
    if (it == dfa_index_.end()) {
      auto dfa = compile_regex(pattern);
      if (!dfa.ok()) return Error("{}: pattern '{}': {}", path, pattern, dfa.error());
      prog_.dfas.push_back(without_escaped_bytes(*dfa));
      it = dfa_index_.emplace(std::string(pattern), static_cast<int32_t>(prog_.dfas.size() - 1)).first;
    }
    n.dfa = it->second;
    return Status::Ok();
  }

  Status number_keywords(const json::object& s, const std::string& path, Node& n) {
    GS_ASSIGN_OR_RETURN(NumberBounds b, number_bounds(s, path));
    n.has_min = b.has_min, n.minimum = b.minimum, n.min_exclusive = b.min_exclusive;
    n.has_max = b.has_max, n.maximum = b.maximum, n.max_exclusive = b.max_exclusive;
    if (!(n.types & kNumber)) {  // whole numbers only: whole, inclusive bounds
      if (n.has_min) n.minimum = n.min_exclusive ? std::floor(n.minimum) + 1 : std::ceil(n.minimum);
      if (n.has_max) n.maximum = n.max_exclusive ? std::ceil(n.maximum) - 1 : std::floor(n.maximum);
      n.min_exclusive = n.max_exclusive = false;
    }
    return Status::Ok();
  }

  Status object_keywords(const json::object& s, const std::string& path, int depth, Node& n) {
    const json::value* props = s.if_contains("properties");
    if (props && !props->is_object()) return Error("{}: 'properties' must be an object", path);
    std::vector<std::string_view> required;
    if (const json::value* r = s.if_contains("required")) {
      if (!r->is_array()) return Error("{}: 'required' must be an array of strings", path);
      for (const json::value& name : r->get_array()) {
        if (!name.is_string()) return Error("{}: 'required' must be an array of strings", path);
        required.push_back(name.get_string());
      }
    }
    const json::value* extra = s.if_contains("additionalProperties");
    if (extra) {
      GS_ASSIGN_OR_RETURN(n.additional, node_for(*extra, path + "/additionalProperties", depth + 1, 0));
    } else {
      // Listed properties and nothing else unless the schema says so: a model
      // should not invent keys (a narrower choice than JSON Schema's default).
      n.additional = props ? kNoNode : any_node();
    }
    auto is_required = [&](std::string_view key) {
      return std::find(required.begin(), required.end(), key) != required.end();
    };
    if (props) {
      for (const auto& [key, sub] : props->get_object()) {
        if (!is_valid_utf8(key)) return Error("{}: a property name is not valid UTF-8", path);
        Property p;
        append_string_content(key, p.key);
        GS_ASSIGN_OR_RETURN(p.node, node_for(sub, child_path(path + "/properties", key), depth + 1, 0));
        p.required = is_required(key);
        n.properties.push_back(std::move(p));
      }
    }
    // Required names without a schema of their own must still be written.
    for (std::string_view key : required) {
      if (props && props->get_object().contains(key)) continue;
      if (std::any_of(n.properties.begin(), n.properties.end(), [&](const Property& p) {
            std::string k;
            append_string_content(key, k);
            return p.key == k;
          })) {
        continue;  // listed twice in required
      }
      if (!is_valid_utf8(key)) return Error("{}: a required name is not valid UTF-8", path);
      Property p;
      append_string_content(key, p.key);
      p.node = extra ? n.additional : any_node();
      if (p.node == kNoNode) p.node = never_node();
      p.required = true;
      n.properties.push_back(std::move(p));
    }
    return Status::Ok();
  }

  Status array_keywords(const json::object& s, const std::string& path, int depth, Node& n) {
    GS_ASSIGN_OR_RETURN(n.min_items, count_keyword(s, "minItems", path, 0));
    GS_ASSIGN_OR_RETURN(n.max_items, count_keyword(s, "maxItems", path, kUnbounded));
    const json::value* prefix = s.if_contains("prefixItems");
    const json::value* items = s.if_contains("items");
    const json::value* rest = items;
    std::string prefix_path = path + "/prefixItems", rest_path = path + "/items";
    if (prefix && !prefix->is_array()) return Error("{}: 'prefixItems' must be an array", path);
    if (items && items->is_array()) {
      if (prefix) return Error("{}: 'items' as an array together with 'prefixItems' is not supported", path);
      prefix = items;  // the draft 4-2019 tuple form
      prefix_path = rest_path;
      rest = s.if_contains("additionalItems");
      rest_path = path + "/additionalItems";
    }
    if (prefix) {
      for (size_t i = 0; i < prefix->get_array().size(); ++i) {
        GS_ASSIGN_OR_RETURN(
            uint32_t item,
            node_for(prefix->get_array()[i], child_path(prefix_path, std::to_string(i)), depth + 1, 0));
        n.prefix_items.push_back(item);
      }
    }
    if (rest) {
      GS_ASSIGN_OR_RETURN(n.items, node_for(*rest, rest_path, depth + 1, 0));
    } else {
      n.items = any_node();
    }
    return Status::Ok();
  }

  // Replaces nested anyOf alternatives by their own alternatives, so that a
  // fork happens once per value. A cycle of anyOf (A = anyOf[A, x]) adds nothing.
  Status flatten_any_of() {
    std::vector<std::vector<uint32_t>> flat(prog_.nodes.size());
    std::vector<uint8_t> on_path(prog_.nodes.size(), 0);
    size_t steps = 0;
    for (uint32_t id = 0; id < prog_.nodes.size(); ++id) {
      if (prog_.nodes[id].kind != NodeKind::kAnyOf) continue;
      GS_RETURN_IF_ERROR(expand(id, flat[id], on_path, steps, 0));
      std::vector<uint32_t> unique;
      for (uint32_t a : flat[id]) {
        if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(a);
      }
      flat[id] = std::move(unique);
    }
    for (uint32_t id = 0; id < prog_.nodes.size(); ++id) {
      if (prog_.nodes[id].kind == NodeKind::kAnyOf) prog_.nodes[id].alternatives = std::move(flat[id]);
    }
    return Status::Ok();
  }
  Status expand(uint32_t id, std::vector<uint32_t>& out, std::vector<uint8_t>& on_path, size_t& steps,
                int depth) {
    if (++steps > kMaxFlattenSteps || depth > kMaxSchemaDepth)
      return Error("#: anyOf/oneOf nesting too complex");
    on_path[id] = 1;
    for (uint32_t alt : prog_.nodes[id].alternatives) {
      if (prog_.nodes[alt].kind != NodeKind::kAnyOf) {
        out.push_back(alt);
      } else if (!on_path[alt]) {
        GS_RETURN_IF_ERROR(expand(alt, out, on_path, steps, depth + 1));
      }
    }
    on_path[id] = 0;
    return Status::Ok();
  }

  bool string_feasible(const Node& n) const {
    if (n.min_length > n.max_length) return false;
    if (n.dfa < 0) return true;
    const Dfa& d = prog_.dfas[static_cast<size_t>(n.dfa)];
    return !d.empty() && d.min_chars[0] <= n.max_length &&
           (d.max_chars[0] == Dfa::kUnbounded || d.max_chars[0] >= n.min_length);
  }

  // The types of a value node that can produce a value, given which nodes can.
  uint8_t feasible_types(const Node& n, const std::vector<uint8_t>& sat) const {
    uint8_t m = n.types;
    if ((m & kString) && !string_feasible(n)) m &= ~kString;
    if ((m & (kInteger | kNumber)) && !number_can_start(n)) m &= ~(kInteger | kNumber);
    if (m & kObject) {
      for (const Property& p : n.properties) {
        if (p.required && !sat[p.node]) m &= ~kObject;
      }
    }
    if (m & kArray) {
      if (n.min_items > n.max_items) m &= ~kArray;
      const size_t needed = std::min<size_t>(n.min_items, n.prefix_items.size() + 1);
      for (size_t i = 0; i < needed && (m & kArray); ++i) {
        const uint32_t item = n.item_node(static_cast<uint32_t>(i));
        if (item == kNoNode || !sat[item]) m &= ~kArray;
      }
    }
    return m;
  }

  // Least fixed point of "can produce a finite value", then removal of what cannot.
  Status prune() {
    const size_t count = prog_.nodes.size();
    std::vector<uint8_t> sat(count, 0);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t id = 0; id < count; ++id) {
        if (sat[id]) continue;
        const Node& n = prog_.nodes[id];
        bool ok = false;
        switch (n.kind) {
          case NodeKind::kValue:
            ok = feasible_types(n, sat) != 0;
            break;
          case NodeKind::kLiteral:
            ok = !n.literals.empty();
            break;
          case NodeKind::kAnyOf:
            ok = std::any_of(n.alternatives.begin(), n.alternatives.end(),
                             [&](uint32_t a) { return sat[a] != 0; });
            break;
        }
        if (ok) sat[id] = 1, changed = true;
      }
    }
    if (!sat[prog_.root]) return Error("#: the schema accepts no value that can be generated");
    for (Node& n : prog_.nodes) {
      if (n.kind == NodeKind::kAnyOf) {
        std::erase_if(n.alternatives, [&](uint32_t a) { return !sat[a]; });
        continue;
      }
      if (n.kind != NodeKind::kValue) continue;
      n.types = feasible_types(n, sat);
      std::erase_if(n.properties, [&](const Property& p) { return !sat[p.node]; });
      if (n.additional != kNoNode && !sat[n.additional]) n.additional = kNoNode;
      for (size_t i = 0; i < n.prefix_items.size(); ++i) {
        if (!sat[n.prefix_items[i]]) {
          n.max_items = std::min<uint32_t>(n.max_items, static_cast<uint32_t>(i));
          n.prefix_items.resize(i);
          break;
        }
      }
      if (n.items != kNoNode && !sat[n.items]) n.items = kNoNode;
    }
    return Status::Ok();
  }

  void finish_nodes() {
    for (Node& n : prog_.nodes) {
      const size_t count = n.properties.size();
      n.key_order.resize(count);
      for (uint32_t i = 0; i < count; ++i) n.key_order[i] = i;
      std::sort(n.key_order.begin(), n.key_order.end(),
                [&](uint32_t a, uint32_t b) { return n.properties[a].key < n.properties[b].key; });
      n.sorted_keys.clear();
      for (uint32_t i : n.key_order) n.sorted_keys.push_back(n.properties[i].key);
      n.next_required.assign(count + 1, static_cast<uint32_t>(count));
      for (size_t i = count; i-- > 0;) {
        n.next_required[i] = n.properties[i].required ? static_cast<uint32_t>(i) : n.next_required[i + 1];
      }
      n.first = ByteSet{};
      if (n.kind == NodeKind::kLiteral) {
        for (const std::string& l : n.literals) n.first.set(static_cast<uint8_t>(l[0]));
      } else if (n.kind == NodeKind::kValue) {
        if (n.types & kNull) n.first.set('n');
        if (n.types & kBool) n.first.set('t'), n.first.set('f');
        if (n.types & (kInteger | kNumber)) n.first.set('-'), n.first.set_range('0', '9');
        if (n.types & kString) n.first.set('"');
        if (n.types & kObject) n.first.set('{');
        if (n.types & kArray) n.first.set('[');
      }
    }
    for (Node& n : prog_.nodes) {
      if (n.kind != NodeKind::kAnyOf) continue;
      for (uint32_t a : n.alternatives) n.first.merge(prog_.nodes[a].first);
    }
  }

  const json::value& root_;
  Program prog_;
  std::unordered_map<const json::value*, uint32_t> memo_;
  std::map<std::string, int32_t, std::less<>> dfa_index_;
  uint32_t any_ = kNoNode;
  uint32_t never_ = kNoNode;
};

}  // namespace

Result<Program> compile_schema(const json::value& schema) { return Compiler(schema).run(); }

}  // namespace gs::grammar
