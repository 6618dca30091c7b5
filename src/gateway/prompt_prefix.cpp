#include "gateway/prompt_prefix.h"

namespace gs::gateway {
namespace json = boost::json;

namespace {

// Appends up to what `max_bytes` leaves; false once the prefix is full (stop reading).
bool append(std::string& out, std::string_view text, size_t max_bytes) {
  out.append(text.substr(0, max_bytes - out.size()));
  return out.size() < max_bytes;
}

// A string, or OpenAI content parts ([{type: text, text}, ...]) as their texts.
bool append_content(std::string& out, const json::value* content, size_t max_bytes) {
  if (!content) return true;
  if (content->is_string()) return append(out, content->as_string(), max_bytes);
  if (!content->is_array()) return true;
  for (const json::value& part : content->as_array()) {
    const json::value* text = part.is_object() ? part.as_object().if_contains("text") : nullptr;
    if (text && text->is_string() && !append(out, text->as_string(), max_bytes)) return false;
  }
  return true;
}

// A completion prompt: a string, a list whose first element counts, or token ids.
void append_prompt(std::string& out, const json::value* prompt, size_t max_bytes) {
  if (!prompt) return;
  if (prompt->is_array() && !prompt->as_array().empty()) {
    const json::value& first = prompt->as_array().front();
    if (first.is_string() || first.is_array()) return append_prompt(out, &first, max_bytes);
    append(out, json::serialize(*prompt), max_bytes);  // token ids
    return;
  }
  if (prompt->is_string()) append(out, prompt->as_string(), max_bytes);
}

}  // namespace

std::optional<std::string> prompt_prefix(std::string_view path, const json::object& body, size_t max_bytes) {
  std::string out;
  if (path == "/v1/chat/completions" || path == "/api/chat") {
    const json::value* messages = body.if_contains("messages");
    if (messages && messages->is_array()) {
      for (const json::value& m : messages->as_array()) {
        if (!m.is_object()) continue;
        const json::value* role = m.as_object().if_contains("role");
        if (role && role->is_string() && !append(out, role->as_string(), max_bytes)) break;
        if (!append(out, "\n", max_bytes) ||
            !append_content(out, m.as_object().if_contains("content"), max_bytes) ||
            !append(out, "\n", max_bytes)) {
          break;
        }
      }
    }
  } else if (path == "/v1/completions") {
    append_prompt(out, body.if_contains("prompt"), max_bytes);
  } else if (path == "/api/generate") {
    const json::value* system = body.if_contains("system");
    if (system && system->is_string() && append(out, system->as_string(), max_bytes))
      append(out, "\n", max_bytes);
    append_prompt(out, body.if_contains("prompt"), max_bytes);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace gs::gateway
