// JSON shapes of OpenAI's and Ollama's responses: completion objects, stream
// chunks, logprobs, usage, and genstack's `timings` extension.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "engine/request.h"
#include "template/tool_calls.h"
#include "tokenizer/tokenizer.h"

namespace gs::server {

const char* finish_reason_name(FinishReason reason, bool tool_calls);

boost::json::object timings_json(const SequenceTimings& t);
boost::json::object usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens);

// Chat: {"content": [{"token", "logprob", "bytes", "top_logprobs"}]}.
boost::json::object chat_logprobs_json(const Tokenizer& tok, const std::vector<TokenLogprob>& lps);
// Completions: {"tokens", "token_logprobs", "top_logprobs", "text_offset"}.
boost::json::object completion_logprobs_json(const Tokenizer& tok, const std::vector<TokenLogprob>& lps,
                                             size_t text_offset);
boost::json::array tool_calls_json(const std::vector<tmpl::ToolCall>& calls, size_t first_index,
                                   bool with_index);

// Ollama's RFC 3339 timestamp with nanoseconds, UTC.
std::string ollama_timestamp(std::chrono::system_clock::time_point t);
// Ollama's closing statistics (durations in nanoseconds).
void add_ollama_stats(boost::json::object& o, const SequenceTimings& t, double load_ms);

std::string new_id(std::string_view prefix);
int64_t unix_seconds();

}  // namespace gs::server
