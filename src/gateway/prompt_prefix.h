// The start of a request's prompt as one string, for sticky routing: two
// requests that share it will share the upstream's KV prefix cache, so they
// should go to the same upstream.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gs::gateway {

// Chat (/v1/chat/completions, /api/chat): each message's role, a newline,
// its text content (OpenAI content parts: their text, concatenated), a
// newline, in order. Completions (/v1/completions): the prompt (the first
// one of a list); /api/generate: the system prompt, a newline, then the
// prompt. Cut to `max_bytes`. nullopt for routes without a prompt
// (embeddings) or an empty prompt.
std::optional<std::string> prompt_prefix(std::string_view path, const boost::json::object& body,
                                         size_t max_bytes);

}  // namespace gs::gateway
