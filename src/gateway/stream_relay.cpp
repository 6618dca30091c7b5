#include "gateway/stream_relay.h"

#include <boost/json.hpp>

#include "gateway/errors.h"

namespace gs::gateway {
namespace json = boost::json;

std::vector<std::string> EventSplitter::feed(std::string_view bytes) {
  pending_.append(bytes);
  std::vector<std::string> events;
  const std::string_view delimiter = format_ == StreamFormat::kSse ? "\n\n" : "\n";
  size_t start = 0;
  for (size_t end; (end = pending_.find(delimiter, start)) != std::string::npos;) {
    events.push_back(pending_.substr(start, end + delimiter.size() - start));
    start = end + delimiter.size();
  }
  pending_.erase(0, start);
  return events;
}

namespace {

int64_t integer_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64()
                            : (v && v->is_uint64() ? static_cast<int64_t>(v->as_uint64()) : 0);
}

}  // namespace

bool scan_usage(std::string_view event, Usage& usage) {
  if (event.find("usage") == std::string_view::npos && event.find("eval_count") == std::string_view::npos) {
    return false;
  }
  while (!event.empty() && (event.back() == '\n' || event.back() == '\r')) event.remove_suffix(1);
  if (event.starts_with("data:")) {
    event.remove_prefix(5);
    if (event.starts_with(' ')) event.remove_prefix(1);
  }
  boost::system::error_code ec;
  const json::value doc = json::parse(event, ec);
  if (ec || !doc.is_object()) return false;
  const json::object& o = doc.as_object();
  if (const json::value* u = o.if_contains("usage"); u && u->is_object()) {
    usage.prompt_tokens += integer_field(u->as_object(), "prompt_tokens");
    usage.completion_tokens += integer_field(u->as_object(), "completion_tokens");
    usage.seen = true;
    const json::value* choices = o.if_contains("choices");
    return choices && choices->is_array() && choices->as_array().empty();
  }
  if (o.contains("eval_count") || o.contains("prompt_eval_count")) {
    usage.prompt_tokens += integer_field(o, "prompt_eval_count");
    usage.completion_tokens += integer_field(o, "eval_count");
    usage.seen = true;
  }
  return false;
}

std::string stream_error_event(StreamFormat format, std::string_view message) {
  const std::string body = error_json({502, std::string(message), "upstream_error", "stream_interrupted"});
  if (format == StreamFormat::kSse) return "data: " + body + "\n\ndata: [DONE]\n\n";
  return body + "\n";
}

}  // namespace gs::gateway
