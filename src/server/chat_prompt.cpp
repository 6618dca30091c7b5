#include "server/chat_prompt.h"

#include <fmt/format.h>

#include "template/chat_template.h"

namespace gs::server {
namespace {

// Content given as [{"type": "text", "text": ...}, ...] becomes one string.
std::optional<std::string> flatten_content(const boost::json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  if (content.is_null()) return std::string();
  if (!content.is_array()) return std::nullopt;
  std::string text;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) return std::nullopt;
    const auto* type = part.get_object().if_contains("type");
    const auto* t = part.get_object().if_contains("text");
    if (type && type->is_string() && type->get_string() == "text" && t && t->is_string())
      text += t->get_string();
  }
  return text;
}

std::variant<boost::json::array, ApiError> normalize_messages(const boost::json::value& messages) {
  if (!messages.is_array()) return bad_request("'messages' must be an array", "messages");
  if (messages.get_array().empty()) return bad_request("'messages' must not be empty", "messages");
  boost::json::array out;
  size_t i = 0;
  for (const auto& m : messages.get_array()) {
    const std::string where = fmt::format("messages[{}]", i++);
    if (!m.is_object()) return bad_request("'" + where + "' must be an object", where);
    boost::json::object message = m.get_object();
    const auto* role = message.if_contains("role");
    if (!role || !role->is_string())
      return bad_request("'" + where + ".role' must be a string", where + ".role");
    const std::string_view r = role->get_string();
    if (r != "system" && r != "user" && r != "assistant" && r != "tool" && r != "developer" &&
        r != "function") {
      return bad_request("'" + where + ".role' must be one of system, developer, user, assistant, tool",
                         where + ".role");
    }
    const auto* content = message.if_contains("content");
    auto text = flatten_content(content ? *content : boost::json::value(nullptr));
    if (!text) {
      return bad_request("'" + where + ".content' must be a string or an array of text parts",
                         where + ".content");
    }
    message["content"] = *text;
    out.push_back(std::move(message));
  }
  return out;
}

}  // namespace

ApiError context_exceeded(size_t prompt_tokens, int64_t n_ctx) {
  return bad_request(
      fmt::format("This model's maximum context length is {} tokens. However, your prompt is {} tokens "
                  "(it must be shorter than the context to leave room for the reply).",
                  n_ctx, prompt_tokens),
      "messages", "context_length_exceeded");
}

std::variant<ChatPrompt, ApiError> render_chat_prompt(const LoadedModel& model,
                                                      const boost::json::value& messages,
                                                      const boost::json::value& tools) {
  auto normalized = normalize_messages(messages);
  if (auto* error = std::get_if<ApiError>(&normalized)) return *error;
  const Tokenizer& tok = model.model->tokenizer();
  tmpl::ChatInputs inputs;
  inputs.messages = std::move(std::get<boost::json::array>(normalized));
  if (!tools.is_null()) {
    if (!tools.is_array()) return bad_request("'tools' must be an array", "tools");
    inputs.tools = tools;
  }
  inputs.bos_token = tok.bos() >= 0 ? tok.token_text(tok.bos()) : "";
  inputs.eos_token = tok.eos() >= 0 ? tok.token_text(tok.eos()) : "";
  auto rendered = tmpl::render_chat_template(model.chat_template, inputs);
  if (!rendered.ok())
    return bad_request("the model's chat template failed on these messages: " + rendered.error());
  ChatPrompt prompt;
  prompt.text = std::move(*rendered);
  // Templates that print the BOS text themselves get it as a token from
  // parse_special; adding another would double it.
  const bool template_has_bos = !inputs.bos_token.empty() && prompt.text.starts_with(inputs.bos_token);
  prompt.tokens = tok.encode(prompt.text, tok.add_bos_default() && !template_has_bos, true);
  return prompt;
}

std::vector<TokenId> encode_completion_prompt(const LoadedModel& model, std::string_view prompt) {
  const Tokenizer& tok = model.model->tokenizer();
  return tok.encode(prompt, tok.add_bos_default());
}

}  // namespace gs::server
