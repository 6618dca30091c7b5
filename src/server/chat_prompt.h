// Chat messages -> prompt tokens through the model's chat template, with the
// message shapes OpenAI and Ollama clients send (content as a string or as
// text parts, tool calls and tool results, Ollama's images ignored).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "server/api_error.h"
#include "server/model_manager.h"

namespace gs::server {

struct ChatPrompt {
  std::vector<TokenId> tokens;
  std::string text;
};

// messages: the request's array; tools: null or the request's array.
std::variant<ChatPrompt, ApiError> render_chat_prompt(const LoadedModel& model,
                                                      const boost::json::value& messages,
                                                      const boost::json::value& tools);

// Plain text completion: the tokenizer's default BOS, special tokens as text.
std::vector<TokenId> encode_completion_prompt(const LoadedModel& model, std::string_view prompt);

// The error for a prompt that leaves no room to generate in the context.
ApiError context_exceeded(size_t prompt_tokens, int64_t n_ctx);

}  // namespace gs::server
