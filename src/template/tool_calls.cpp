#include "template/tool_calls.h"

#include <boost/json.hpp>

#include "core/json_extent.h"

namespace gs::tmpl {

namespace {

constexpr std::string_view kToolCallOpen = "<tool_call>";
constexpr std::string_view kToolCallClose = "</tool_call>";
constexpr std::string_view kMistralCalls = "[TOOL_CALLS]";
constexpr std::string_view kMistralArgs = "[ARGS]";
constexpr std::string_view kMistralCallId = "[CALL_ID]";
constexpr std::string_view kPythonTag = "<|python_tag|>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// The longest end of `s` that could be the start of one of `markers`: held
// back so that no partial marker is ever handed out as content.
size_t partial_marker_length(std::string_view s, std::initializer_list<std::string_view> markers) {
  size_t best = 0;
  for (std::string_view m : markers) {
    for (size_t n = std::min(s.size(), m.size() - 1); n > best; --n) {
      if (s.substr(s.size() - n) == m.substr(0, n)) {
        best = n;
        break;
      }
    }
  }
  return best;
}

std::string arguments_text(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return boost::json::serialize(v);
}

// {"name": "f", "arguments"|"parameters": {...}} -> name and arguments JSON.
bool call_from_json(const boost::json::value& v, std::string* name, std::string* arguments, std::string* id) {
  if (!v.is_object()) return false;
  const boost::json::object& o = v.get_object();
  const boost::json::value* n = o.if_contains("name");
  if (!n || !n->is_string() || n->get_string().empty()) return false;
  const boost::json::value* args = o.if_contains("arguments");
  if (!args) args = o.if_contains("parameters");
  if (args && !(args->is_object() || args->is_string())) return false;
  *name = std::string(n->get_string());
  *arguments = args ? arguments_text(*args) : "{}";
  if (const boost::json::value* i = o.if_contains("id"); i && i->is_string())
    *id = std::string(i->get_string());
  return true;
}

bool parse_json(std::string_view text, boost::json::value* out) {
  boost::system::error_code ec;
  *out = boost::json::parse(text, ec);
  return !ec;
}

// OpenAI wants an id per call; Mistral's templates want exactly 9 letters and
// digits. Derived from the call itself so a stream and the whole reply agree.
std::string derive_id(size_t index, std::string_view name, std::string_view arguments) {
  uint64_t h = 1469598103934665603ull ^ index;
  for (std::string_view part : {name, std::string_view("\x1f"), arguments}) {
    for (unsigned char c : part) h = (h ^ c) * 1099511628211ull;
  }
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id;
  for (int i = 0; i < 9; ++i, h /= 62) id.push_back(kAlphabet[h % 62]);
  return id;
}

}  // namespace

ToolCallFormat detect_tool_call_format(std::string_view t) {
  if (t.find(kToolCallOpen) != std::string_view::npos) return ToolCallFormat::kHermes;
  if (t.find(kMistralCalls) != std::string_view::npos) return ToolCallFormat::kMistral;
  if (t.find("<|start_header_id|>") != std::string_view::npos &&
      (t.find("tools") != std::string_view::npos || t.find(kPythonTag) != std::string_view::npos)) {
    return ToolCallFormat::kLlama3;
  }
  return ToolCallFormat::kNone;
}

const char* tool_call_format_name(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::kLlama3:
      return "llama3";
    case ToolCallFormat::kHermes:
      return "hermes";
    case ToolCallFormat::kMistral:
      return "mistral";
    default:
      return "none";
  }
}

ParsedReply parse_tool_calls(std::string_view output, ToolCallFormat format) {
  ToolCallStream stream(format);
  ToolCallStream::Delta a = stream.feed(output);
  ToolCallStream::Delta b = stream.finish();
  ParsedReply reply{a.content + b.content, std::move(a.tool_calls)};
  for (ToolCall& c : b.tool_calls) reply.tool_calls.push_back(std::move(c));
  return reply;
}

// ---- the stream ---------------------------------------------------------------

ToolCallStream::Delta ToolCallStream::feed(std::string_view chunk) {
  Delta out;
  pending_.append(chunk);
  drain(false, &out);
  return out;
}

ToolCallStream::Delta ToolCallStream::finish() {
  Delta out;
  drain(true, &out);
  out.content += pending_;
  pending_.clear();
  return out;
}

void ToolCallStream::drain(bool final, Delta* out) {
  while (true) {
    bool progressed = false;
    switch (state_) {
      case State::kStart:
      case State::kText:
        progressed = step_text(final, out);
        break;
      case State::kTagged:
        progressed = step_tagged(final, out);
        break;
      case State::kMistral:
        progressed = step_mistral(final, out);
        break;
      case State::kPythonTag:
        progressed = step_python_tag(final, out);
        break;
      case State::kBareJson:
        progressed = step_bare_json(final, out);
        break;
      case State::kAfterBareJson:
        progressed = step_after_bare_json(final);
        break;
    }
    if (!progressed) return;
  }
}

void ToolCallStream::emit_call(std::string name, std::string arguments, std::string id, Delta* out) {
  if (id.empty()) id = derive_id(calls_, name, arguments);
  out->tool_calls.push_back({std::move(id), std::move(name), std::move(arguments)});
  ++calls_;
}

bool ToolCallStream::step_text(bool final, Delta* out) {
  if (format_ == ToolCallFormat::kNone) {
    out->content += pending_;
    pending_.clear();
    return false;
  }
  if (state_ == State::kStart && format_ == ToolCallFormat::kLlama3) {
    // Llama 3 answers a tool request with a bare JSON object as the whole reply.
    const size_t first = skip_space(pending_, 0);
    if (first == pending_.size() && !final) return false;  // only white space so far: wait
    state_ = State::kText;
    if (first < pending_.size() && pending_[first] == '{') {
      pending_.erase(0, first);
      state_ = State::kBareJson;
      return true;
    }
  }
  state_ = State::kText;
  std::string_view marker = format_ == ToolCallFormat::kHermes    ? kToolCallOpen
                            : format_ == ToolCallFormat::kMistral ? kMistralCalls
                                                                  : kPythonTag;
  const size_t at = pending_.find(marker);
  if (at == std::string::npos) {
    const size_t keep = final ? 0 : partial_marker_length(pending_, {marker});
    out->content.append(pending_, 0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    return false;
  }
  out->content.append(pending_, 0, at);
  pending_.erase(0, at + marker.size());
  state_ = format_ == ToolCallFormat::kHermes    ? State::kTagged
           : format_ == ToolCallFormat::kMistral ? State::kMistral
                                                 : State::kPythonTag;
  return true;
}

// Inside <tool_call> ... </tool_call>.
bool ToolCallStream::step_tagged(bool final, Delta* out) {
  const size_t close = pending_.find(kToolCallClose);
  if (close == std::string::npos && !final) return false;
  const std::string body = pending_.substr(0, close);
  boost::json::value v;
  std::string name, arguments, id;
  if (parse_json(body, &v) && call_from_json(v, &name, &arguments, &id)) {
    emit_call(std::move(name), std::move(arguments), std::move(id), out);
  } else {
    out->content +=
        std::string(kToolCallOpen) + body + (close == std::string::npos ? "" : std::string(kToolCallClose));
  }
  pending_.erase(0, close == std::string::npos ? pending_.size() : close + kToolCallClose.size());
  state_ = State::kText;
  return true;
}

// After [TOOL_CALLS]: a JSON array of calls, or name[ARGS]{...} (newer models).
bool ToolCallStream::step_mistral(bool final, Delta* out) {
  const size_t start = skip_space(pending_, 0);
  if (start == pending_.size() && !final) return false;
  const auto give_up = [&] {  // not a call after all: the text is content
    out->content += std::string(kMistralCalls) + pending_;
    pending_.clear();
    state_ = State::kText;
    return true;
  };
  if (start < pending_.size() && pending_[start] == '[') {
    const size_t end = json_extent(pending_, start);
    if (end == std::string::npos) return final ? give_up() : false;
    boost::json::value v;
    if (!parse_json(std::string_view(pending_).substr(start, end - start), &v) || !v.is_array())
      return give_up();
    std::vector<ToolCall> calls;
    for (const boost::json::value& item : v.get_array()) {
      ToolCall c;
      if (!call_from_json(item, &c.name, &c.arguments, &c.id)) return give_up();
      calls.push_back(std::move(c));
    }
    for (ToolCall& c : calls) emit_call(std::move(c.name), std::move(c.arguments), std::move(c.id), out);
    pending_.erase(0, end);
    state_ = State::kText;
    return true;
  }
  const size_t args = pending_.find(kMistralArgs, start);
  if (args == std::string::npos) return final ? give_up() : false;
  std::string name = pending_.substr(start, args - start), id;
  if (const size_t id_at = name.find(kMistralCallId); id_at != std::string::npos) {
    id = name.substr(id_at + kMistralCallId.size());
    name.resize(id_at);
  }
  const size_t json_start = skip_space(pending_, args + kMistralArgs.size());
  if (json_start == pending_.size()) return final ? give_up() : false;
  const size_t end = pending_[json_start] == '{' ? json_extent(pending_, json_start) : std::string::npos;
  if (end == std::string::npos) return final || pending_[json_start] != '{' ? give_up() : false;
  boost::json::value v;
  if (name.empty() || !parse_json(std::string_view(pending_).substr(json_start, end - json_start), &v))
    return give_up();
  emit_call(std::move(name), boost::json::serialize(v), std::move(id), out);
  pending_.erase(0, end);
  state_ = State::kText;
  return true;
}

// After <|python_tag|>: one JSON call, or several separated by ';', to the end of the reply.
bool ToolCallStream::step_python_tag(bool final, Delta* out) {
  if (!final) return false;
  std::vector<ToolCall> calls;
  size_t i = skip_space(pending_, 0);
  while (i < pending_.size()) {
    const size_t end = pending_[i] == '{' ? json_extent(pending_, i) : std::string::npos;
    boost::json::value v;
    ToolCall c;
    if (end == std::string::npos || !parse_json(std::string_view(pending_).substr(i, end - i), &v) ||
        !call_from_json(v, &c.name, &c.arguments, &c.id)) {
      calls.clear();
      break;
    }
    calls.push_back(std::move(c));
    i = skip_space(pending_, end);
    if (i < pending_.size() && pending_[i] == ';') i = skip_space(pending_, i + 1);
  }
  if (calls.empty()) {
    out->content += std::string(kPythonTag) + pending_;  // e.g. a built-in tool's brave_search.call(...)
  } else {
    for (ToolCall& c : calls) emit_call(std::move(c.name), std::move(c.arguments), std::move(c.id), out);
  }
  pending_.clear();
  state_ = State::kText;
  return false;
}

// A reply that starts with '{': a Llama 3 call if it is a JSON object with a
// name and parameters, else plain content.
bool ToolCallStream::step_bare_json(bool final, Delta* out) {
  const size_t end = json_extent(pending_, 0);
  if (end == std::string::npos && !final) return false;
  boost::json::value v;
  ToolCall c;
  if (end != std::string::npos && parse_json(std::string_view(pending_).substr(0, end), &v) &&
      call_from_json(v, &c.name, &c.arguments, &c.id)) {
    emit_call(std::move(c.name), std::move(c.arguments), std::move(c.id), out);
    pending_.erase(0, end);
    state_ = State::kAfterBareJson;
    return true;
  }
  state_ = State::kText;
  return true;
}

// After a bare JSON call: more calls may follow (separated by ';'); white space
// alone at the end is dropped, anything else is content.
bool ToolCallStream::step_after_bare_json(bool final) {
  size_t next = skip_space(pending_, 0);
  if (next < pending_.size() && pending_[next] == ';') next = skip_space(pending_, next + 1);
  if (next == pending_.size()) {
    if (final) pending_.clear();
    return false;
  }
  if (pending_[next] == '{') {
    pending_.erase(0, next);
    state_ = State::kBareJson;
  } else {
    state_ = State::kText;
  }
  return true;
}

}  // namespace gs::tmpl
