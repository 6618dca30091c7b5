#include "gateway/response_cache.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
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

MemoryResponseCache::MemoryResponseCache(double ttl_s, size_t max_bytes) : ttl_s_(ttl_s), max_bytes_(max_bytes) {}

void MemoryResponseCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.answer->bytes() + it->first.size();
  recency_.erase(it->second.position);
  entries_.erase(it);
}

std::shared_ptr<const CachedAnswer> MemoryResponseCache::get(const std::string& key, double now) {
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

void MemoryResponseCache::put(const std::string& key, CachedAnswer answer, double now) {
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

size_t MemoryResponseCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

size_t MemoryResponseCache::entries() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::optional<CacheContents> MemoryResponseCache::contents() const {
  std::lock_guard lock(mutex_);
  return CacheContents{bytes_, entries_.size()};
}

namespace {

constexpr std::string_view kAnswerFormat = "genstack-cached-answer-1";

// Fields as netstrings ("LENGTH:BYTES,"): any bytes, no escaping.
void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ',';
}

Result<std::string_view> next_field(std::string_view& bytes) {
  const size_t colon = bytes.find(':');
  size_t length = 0;
  const auto [end, ec] = std::from_chars(bytes.data(), bytes.data() + std::min(colon, bytes.size()), length);
  if (colon == std::string_view::npos || ec != std::errc() || end != bytes.data() + colon ||
      length >= bytes.size() - colon - 1 || bytes[colon + 1 + length] != ',') {
    return Error("cached answer: malformed field");
  }
  const std::string_view field = bytes.substr(colon + 1, length);
  bytes.remove_prefix(colon + 2 + length);
  return field;
}

Result<int64_t> next_integer(std::string_view& bytes) {
  GS_ASSIGN_OR_RETURN(const std::string_view field, next_field(bytes));
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size()) return Error("cached answer: bad number");
  return value;
}

}  // namespace

std::string serialize_answer(const CachedAnswer& answer) {
  std::string out;
  out.reserve(answer.bytes() + 64 + 16 * answer.pieces.size());
  append_field(out, kAnswerFormat);
  append_field(out, answer.content_type);
  append_field(out, answer.streamed ? "1" : "0");
  append_field(out, answer.usage.seen ? "1" : "0");
  append_field(out, std::to_string(answer.usage.prompt_tokens));
  append_field(out, std::to_string(answer.usage.completion_tokens));
  append_field(out, std::to_string(answer.pieces.size()));
  for (const std::string& piece : answer.pieces) append_field(out, piece);
  return out;
}

Result<CachedAnswer> parse_answer(std::string_view bytes) {
  GS_ASSIGN_OR_RETURN(const std::string_view format, next_field(bytes));
  if (format != kAnswerFormat) return Error("cached answer: unknown format");
  CachedAnswer answer;
  GS_ASSIGN_OR_RETURN(const std::string_view content_type, next_field(bytes));
  answer.content_type = std::string(content_type);
  GS_ASSIGN_OR_RETURN(const int64_t streamed, next_integer(bytes));
  GS_ASSIGN_OR_RETURN(const int64_t usage_seen, next_integer(bytes));
  answer.streamed = streamed != 0;
  answer.usage.seen = usage_seen != 0;
  GS_ASSIGN_OR_RETURN(answer.usage.prompt_tokens, next_integer(bytes));
  GS_ASSIGN_OR_RETURN(answer.usage.completion_tokens, next_integer(bytes));
  GS_ASSIGN_OR_RETURN(const int64_t pieces, next_integer(bytes));
  // Each piece takes at least 3 bytes ("0:,"): a count beyond that is a lie, not a reason to reserve.
  if (pieces < 0 || static_cast<uint64_t>(pieces) > bytes.size() / 3) {
    return Error("cached answer: bad piece count");
  }
  for (int64_t i = 0; i < pieces; ++i) {
    GS_ASSIGN_OR_RETURN(const std::string_view piece, next_field(bytes));
    answer.pieces.emplace_back(piece);
  }
  if (!bytes.empty()) return Error("cached answer: trailing bytes");
  return answer;
}

}  // namespace gs::gateway
