#include "server/generation_params.h"

#include <charconv>
#include <random>

#include "grammar/json_grammar.h"

namespace gs::server {
namespace {

constexpr int64_t kMaxTokensLimit = int64_t{1} << 40;

uint64_t random_seed() {
  static std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) | device();
}

// response_format (OpenAI) -> grammar for constrained decoding.
std::optional<ApiError> parse_response_format(const boost::json::value& format, GenerationRequest& out) {
  if (!format.is_object()) return bad_request("'response_format' must be an object", "response_format");
  const auto& o = format.get_object();
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string())
    return bad_request("'response_format.type' must be a string", "response_format");
  if (type->get_string() == "text") return std::nullopt;
  if (type->get_string() == "json_object") {
    out.grammar = JsonGrammar::any_object();
    return std::nullopt;
  }
  if (type->get_string() != "json_schema") {
    return bad_request("'response_format.type' must be 'text', 'json_object' or 'json_schema'",
                       "response_format");
  }
  const auto* spec = o.if_contains("json_schema");
  if (!spec || !spec->is_object()) {
    return bad_request("'response_format.json_schema' must be an object", "response_format");
  }
  const auto* schema = spec->get_object().if_contains("schema");
  if (!schema) return bad_request("'response_format.json_schema.schema' is required", "response_format");
  auto grammar = JsonGrammar::from_schema(*schema);
  if (!grammar.ok()) return bad_request("unsupported JSON schema: " + grammar.error(), "response_format");
  out.grammar = std::move(*grammar);
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> parse_openai_params(const boost::json::object& body, bool chat, OpenAiParams& out) {
  Fields f(body);
  GenerationRequest& r = out.request;
  // OpenAI's defaults: temperature 1, nucleus off; llama.cpp's extra filters off unless asked.
  r.sampling = SamplingParams{};
  r.sampling.temperature = static_cast<float>(f.number("temperature", 0, 2).value_or(1.0));
  r.sampling.top_p = static_cast<float>(f.number("top_p", 0, 1).value_or(1.0));
  r.sampling.top_k = static_cast<int32_t>(f.integer("top_k", 0, 1 << 20).value_or(0));
  r.sampling.min_p = static_cast<float>(f.number("min_p", 0, 1).value_or(0.0));
  r.sampling.presence_penalty = static_cast<float>(f.number("presence_penalty", -2, 2).value_or(0.0));
  r.sampling.frequency_penalty = static_cast<float>(f.number("frequency_penalty", -2, 2).value_or(0.0));
  r.sampling.repeat_penalty = static_cast<float>(f.number("repeat_penalty", 0, 10).value_or(1.0));
  if (auto seed = f.integer("seed", INT64_MIN, INT64_MAX)) {
    r.sampling.seed = static_cast<uint64_t>(*seed);
  } else {
    r.sampling.seed = random_seed();
  }
  auto max_tokens = f.integer("max_completion_tokens", 1, kMaxTokensLimit);
  if (!max_tokens) max_tokens = f.integer("max_tokens", 1, kMaxTokensLimit);
  r.max_tokens = max_tokens.value_or(-1);
  r.stop = f.strings("stop", 16).value_or(std::vector<std::string>{});
  r.ignore_eos = f.boolean("ignore_eos").value_or(false);
  r.priority = static_cast<int32_t>(f.integer("priority", -1000000, 1000000).value_or(0));
  out.n = static_cast<int32_t>(f.integer("n", 1, 16).value_or(1));
  out.stream = f.boolean("stream").value_or(false);
  f.string("user");
  if (chat) {
    const bool logprobs = f.boolean("logprobs").value_or(false);
    const auto top = f.integer("top_logprobs", 0, 20);
    if (top && !logprobs) f.fail("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    r.logprobs = logprobs ? static_cast<int32_t>(top.value_or(0)) : -1;
  } else {
    r.logprobs = static_cast<int32_t>(f.integer("logprobs", 0, 20).value_or(-1));
  }
  if (const auto* so = f.get("stream_options")) {
    if (!so->is_object()) {
      f.fail("stream_options", "'stream_options' must be an object");
    } else {
      Fields sf(so->get_object(), "stream_options.");
      out.include_usage = sf.boolean("include_usage").value_or(false);
      if (sf.error()) return sf.error();
    }
  }
  if (f.error()) return f.error();
  if (const auto* format = f.get("response_format")) {
    if (auto error = parse_response_format(*format, r)) return error;
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_keep_alive(const boost::json::value& value) {
  if (value.is_int64() || value.is_double()) {
    const double seconds = value.is_int64() ? static_cast<double>(value.get_int64()) : value.get_double();
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  if (!value.is_string()) return std::nullopt;
  const std::string s(value.get_string());
  double number = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
  if (ec != std::errc()) return std::nullopt;
  const size_t used = static_cast<size_t>(end - s.data());
  const std::string unit = s.substr(used);
  double ms = number * 1000;
  if (unit == "ms") {
    ms = number;
  } else if (unit == "m") {
    ms = number * 60000;
  } else if (unit == "h") {
    ms = number * 3600000;
  } else if (!unit.empty() && unit != "s") {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::optional<ApiError> parse_ollama_params(const boost::json::object& body, OllamaParams& out) {
  Fields top(body);
  out.stream = top.boolean("stream").value_or(true);
  if (top.error()) return top.error();
  GenerationRequest& r = out.request;
  // Ollama's defaults.
  r.sampling = SamplingParams{};
  r.sampling.temperature = 0.8f;
  r.sampling.top_k = 40;
  r.sampling.top_p = 0.9f;
  r.sampling.min_p = 0.0f;
  r.sampling.repeat_penalty = 1.1f;
  r.sampling.seed = random_seed();
  if (const auto* ka = top.get("keep_alive")) {
    out.keep_alive = parse_keep_alive(*ka);
    if (!out.keep_alive)
      return bad_request("'keep_alive' must be a duration such as \"5m\" or seconds", "keep_alive");
  }
  if (const auto* format = top.get("format")) {
    if (format->is_string() && format->get_string() == "json") {
      r.grammar = JsonGrammar::any_object();
    } else if (format->is_object()) {
      auto grammar = JsonGrammar::from_schema(*format);
      if (!grammar.ok()) return bad_request("unsupported JSON schema: " + grammar.error(), "format");
      r.grammar = std::move(*grammar);
    } else if (!(format->is_string() && format->get_string().empty())) {
      return bad_request("'format' must be \"json\" or a JSON schema", "format");
    }
  }
  if (const auto* options = top.get("options")) {
    if (!options->is_object()) return bad_request("'options' must be an object", "options");
    Fields f(options->get_object(), "options.");
    if (auto v = f.number("temperature", 0, 100)) r.sampling.temperature = static_cast<float>(*v);
    if (auto v = f.integer("top_k", 0, 1 << 20)) r.sampling.top_k = static_cast<int32_t>(*v);
    if (auto v = f.number("top_p", 0, 1)) r.sampling.top_p = static_cast<float>(*v);
    if (auto v = f.number("min_p", 0, 1)) r.sampling.min_p = static_cast<float>(*v);
    if (auto v = f.number("repeat_penalty", 0, 10)) r.sampling.repeat_penalty = static_cast<float>(*v);
    if (auto v = f.integer("repeat_last_n", -1, 1 << 20)) r.sampling.repeat_last_n = static_cast<int32_t>(*v);
    if (auto v = f.number("presence_penalty", -2, 2)) r.sampling.presence_penalty = static_cast<float>(*v);
    if (auto v = f.number("frequency_penalty", -2, 2)) r.sampling.frequency_penalty = static_cast<float>(*v);
    if (auto v = f.integer("seed", INT64_MIN, INT64_MAX)) r.sampling.seed = static_cast<uint64_t>(*v);
    if (auto v = f.integer("num_predict", -2, kMaxTokensLimit)) r.max_tokens = *v < 0 ? -1 : *v;
    if (auto v = f.strings("stop", 16)) r.stop = *v;
    out.num_ctx = f.integer("num_ctx", 1, 1 << 20);
    if (f.error()) return f.error();
  }
  return std::nullopt;
}

}  // namespace gs::server
