#include "gateway/stream_relay.h"

#include <boost/json.hpp>

#include "core/json_extent.h"
#include "http/api_error.h"

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

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

void scan_answer_usage(std::string_view body, Usage& usage) {
  // The last "usage" key: its opening quote is not escaped, a colon and an object follow, and
  // only the end of the top-level object comes after that object (so it is a top-level key).
  const size_t key = body.rfind("\"usage\"");
  if (key != std::string_view::npos && key > 0) {
    size_t backslashes = 0;
    while (backslashes < key && body[key - 1 - backslashes] == '\\') ++backslashes;
    size_t at = key + 7;
    while (at < body.size() && is_space(body[at])) ++at;
    if (backslashes % 2 == 0 && at < body.size() && body[at] == ':') {
      ++at;
      while (at < body.size() && is_space(body[at])) ++at;
      const size_t object_end =
          at < body.size() && body[at] == '{' ? json_extent(body, at) : std::string_view::npos;
      const std::string_view object =
          object_end == std::string_view::npos ? std::string_view() : body.substr(at, object_end - at);
      std::string_view rest = body.substr(std::min(body.size(), at + object.size()));
      while (!rest.empty() && is_space(rest.back())) rest.remove_suffix(1);
      while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
      if (!object.empty() && rest == "}") {
        boost::system::error_code ec;
        unsigned char memory[1024];  // the usage object's tree, without heap allocations
        json::monotonic_resource resource(memory, sizeof memory);
        const json::value u = json::parse(object, ec, &resource);
        if (!ec && u.is_object()) {
          usage.prompt_tokens += integer_field(u.as_object(), "prompt_tokens");
          usage.completion_tokens += integer_field(u.as_object(), "completion_tokens");
          usage.seen = true;
          return;
        }
      }
    }
  }
  scan_usage(body, usage);
}

namespace {

bool is_json(std::string_view text) {
  boost::system::error_code ec;
  json::parse(text, ec);
  return !ec;
}

std::string_view strip_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  return line;
}

std::string malformed_sse(std::string_view event) {
  std::string data;
  bool has_data = false;
  for (size_t start = 0; start < event.size();) {
    size_t end = event.find('\n', start);
    if (end == std::string_view::npos) end = event.size();
    const std::string_view line = strip_line_end(event.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == ':') continue;
    const size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    if (field != "data" && field != "event" && field != "id" && field != "retry") {
      return "not an SSE field: '" + std::string(line.substr(0, 40)) + "'";
    }
    if (field != "data") continue;
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    if (has_data) data += '\n';
    data += value;
    has_data = true;
  }
  if (has_data && data != "[DONE]" && !is_json(data)) return "an SSE event's data is not JSON";
  return "";
}

}  // namespace

std::string malformed_event_reason(StreamFormat format, std::string_view event) {
  if (format == StreamFormat::kSse) return malformed_sse(event);
  const std::string_view line = strip_line_end(event);
  if (line.find_first_not_of(" \t") == std::string_view::npos || is_json(line)) return "";
  return "an NDJSON line is not JSON";
}

std::string stream_error_event(StreamFormat format, std::string_view message, std::string_view code) {
  const std::string body = http::error_body(
      {.status = 502, .message = std::string(message), .type = "upstream_error", .code = std::string(code)});
  if (format == StreamFormat::kSse) return "data: " + body + "\n\ndata: [DONE]\n\n";
  return body + "\n";
}

}  // namespace gs::gateway
