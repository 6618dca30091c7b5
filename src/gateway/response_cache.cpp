#include "gateway/response_cache.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "gateway/key_store.h"

namespace gs::gateway {
namespace json = boost::json;

namespace {

void write_canonical(const json::value& value, std::string& out) {
  switch (value.kind()) {
    case json::kind::object: {
      const json::object& o = value.get_object();
      std::vector<const json::key_value_pair*> fields;
      for (const auto& field : o) fields.push_back(&field);
      std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i) out += ',';
        out += json::serialize(json::value(fields[i]->key()));
        out += ':';
        write_canonical(fields[i]->value(), out);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      const json::array& a = value.get_array();
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        write_canonical(a[i], out);
      }
      out += ']';
      return;
    }
    case json::kind::double_: {
      const double d = value.get_double();
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9e15) {
        out += std::to_string(static_cast<int64_t>(d));
        return;
      }
      out += json::serialize(value);
      return;
    }
    default:
      out += json::serialize(value);
  }
}

bool zero_temperature_or_seed(const json::object& o) {
  if (const json::value* t = o.if_contains("temperature"); t && t->is_number()) {
    boost::system::error_code ec;
    if (t->to_number<double>(ec) == 0 && !ec) return true;
  }
  const json::value* seed = o.if_contains("seed");
  return seed && (seed->is_int64() || seed->is_uint64());
}

}  // namespace

std::string canonical_json(const json::value& value) {
  std::string out;
  write_canonical(value, out);
  return out;
}

bool is_deterministic(const json::object& body) {
  if (zero_temperature_or_seed(body)) return true;
  const json::value* options = body.if_contains("options");
  return options && options->is_object() && zero_temperature_or_seed(options->get_object());
}

std::string cache_key(std::string_view route, const json::object& body) {
  json::object relevant = body;
  relevant.erase("priority");
  relevant.erase("user");
  return sha256_hex(std::string(route) + "\n" + canonical_json(relevant));
}

size_t CachedAnswer::bytes() const {
  size_t n = content_type.size() + sizeof(CachedAnswer);
  for (const std::string& piece : pieces) n += piece.size() + sizeof(std::string);
  return n;
}

ResponseCache::ResponseCache(double ttl_s, size_t max_bytes) : ttl_s_(ttl_s), max_bytes_(max_bytes) {}

void ResponseCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.answer->bytes() + it->first.size();
  recency_.erase(it->second.position);
  entries_.erase(it);
}

std::shared_ptr<const CachedAnswer> ResponseCache::get(const std::string& key, double now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (now >= it->second.expires_at) {
    erase(it);
    return nullptr;
  }
  recency_.splice(recency_.begin(), recency_, it->second.position);
  return it->second.answer;
}

void ResponseCache::put(const std::string& key, CachedAnswer answer, double now) {
  const size_t size = answer.bytes() + key.size();
  if (size > max_bytes_) return;
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) erase(it);
  while (bytes_ + size > max_bytes_ && !recency_.empty()) erase(entries_.find(recency_.back()));
  recency_.push_front(key);
  entries_.emplace(
      key, Entry{std::make_shared<const CachedAnswer>(std::move(answer)), now + ttl_s_, recency_.begin()});
  bytes_ += size;
}

size_t ResponseCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

size_t ResponseCache::entries() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace gs::gateway
