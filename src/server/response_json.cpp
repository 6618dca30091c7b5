#include "server/response_json.h"

#include "core/utf8.h"

#include <atomic>
#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace gs::server {
namespace {
boost::json::array byte_array(std::string_view bytes) {
  boost::json::array out;
  for (unsigned char c : bytes) out.push_back(c);
  return out;
}
}  // namespace

const char* finish_reason_name(FinishReason reason, bool tool_calls) {
  if (tool_calls) return "tool_calls";
  return reason == FinishReason::kLength ? "length" : "stop";
}

boost::json::object timings_json(const SequenceTimings& t) {
  return {{"queue_ms", t.queue_ms},      {"prompt_ms", t.prompt_ms}, {"predicted_ms", t.predicted_ms},
          {"prompt_n", t.prompt_n},      {"cached_n", t.cached_n},   {"predicted_n", t.predicted_n},
          {"preemptions", t.preemptions}};
}

boost::json::object usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}};
}

boost::json::object chat_logprobs_json(const Tokenizer& tok, const std::vector<TokenLogprob>& lps) {
  boost::json::array content;
  for (const TokenLogprob& lp : lps) {
    const std::string bytes = tok.token_bytes(lp.token);
    boost::json::array top;
    for (const auto& [id, logprob] : lp.top) {
      const std::string b = tok.token_bytes(id);
      top.push_back({{"token", sanitize_utf8(b)}, {"logprob", logprob}, {"bytes", byte_array(b)}});
    }
    content.push_back({{"token", sanitize_utf8(bytes)},
                       {"logprob", lp.logprob},
                       {"bytes", byte_array(bytes)},
                       {"top_logprobs", top}});
  }
  return {{"content", content}};
}

boost::json::object completion_logprobs_json(const Tokenizer& tok, const std::vector<TokenLogprob>& lps,
                                             size_t text_offset) {
  boost::json::array tokens, token_logprobs, top_logprobs, offsets;
  for (const TokenLogprob& lp : lps) {
    const std::string text = sanitize_utf8(tok.token_bytes(lp.token));
    tokens.push_back(boost::json::value(text));
    token_logprobs.push_back(lp.logprob);
    boost::json::object top;
    for (const auto& [id, logprob] : lp.top) top[sanitize_utf8(tok.token_bytes(id))] = logprob;
    top_logprobs.push_back(top);
    offsets.push_back(text_offset);
    text_offset += text.size();
  }
  return {{"tokens", tokens},
          {"token_logprobs", token_logprobs},
          {"top_logprobs", top_logprobs},
          {"text_offset", offsets}};
}

boost::json::array tool_calls_json(const std::vector<tmpl::ToolCall>& calls, size_t first_index,
                                   bool with_index) {
  boost::json::array out;
  for (size_t i = 0; i < calls.size(); ++i) {
    boost::json::object call = {{"id", "call_" + calls[i].id},
                                {"type", "function"},
                                {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}};
    if (with_index) call["index"] = first_index + i;
    out.push_back(std::move(call));
  }
  return out;
}

std::string ollama_timestamp(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(t - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09d}Z", secs, nanos);
}

void add_ollama_stats(boost::json::object& o, const SequenceTimings& t, double load_ms) {
  const auto ns = [](double ms) { return static_cast<int64_t>(ms * 1e6); };
  o["total_duration"] = ns(load_ms + t.queue_ms + t.prompt_ms + t.predicted_ms);
  o["load_duration"] = ns(load_ms);
  o["prompt_eval_count"] = t.prompt_n + t.cached_n;
  o["prompt_eval_duration"] = ns(t.prompt_ms);
  o["eval_count"] = t.predicted_n;
  o["eval_duration"] = ns(t.predicted_ms);
}

std::string new_id(std::string_view prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  return fmt::format("{}{:016x}", prefix, (salt << 20) ^ ++counter);
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gs::server
