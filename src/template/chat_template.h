// Rendering a model's chat template (tokenizer.chat_template in GGUF, or
// tokenizer_config.json's chat_template) the way Hugging Face does: the
// variables `messages`, `tools`, `add_generation_prompt`, `bos_token`,
// `eos_token`, plus any extra ones the template reads (enable_thinking, ...).
#pragma once

#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "template/template.h"

namespace gs::tmpl {

struct ChatInputs {
  boost::json::array messages;  // OpenAI-style {role, content, tool_calls, ...}
  boost::json::value tools;     // array of {type: function, function: {...}}; null when there are none
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  boost::json::object extra;  // more variables; they override the ones above
};

// The template context for `inputs`. As in transformers, `tools` is always
// defined (none when the request has no tools).
boost::json::object chat_context(const ChatInputs& inputs);

// ChatML, for models whose GGUF carries no chat template (as llama.cpp).
std::string_view chatml_fallback_template();

Result<std::string> render_chat_template(std::string_view source, const ChatInputs& inputs,
                                         const RenderOptions& options = {});

}  // namespace gs::tmpl
