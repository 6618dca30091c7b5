#include "template/chat_template.h"

namespace gs::tmpl {

std::string_view chatml_fallback_template() {
  return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
         "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' "
         "}}{% "
         "endif %}";
}

boost::json::object chat_context(const ChatInputs& inputs) {
  boost::json::object ctx;
  ctx["messages"] = inputs.messages;
  ctx["tools"] = inputs.tools;
  ctx["add_generation_prompt"] = inputs.add_generation_prompt;
  ctx["bos_token"] = inputs.bos_token;
  ctx["eos_token"] = inputs.eos_token;
  for (const auto& [key, value] : inputs.extra) ctx[key] = value;
  return ctx;
}

Result<std::string> render_chat_template(std::string_view source, const ChatInputs& inputs,
                                         const RenderOptions& options) {
  GS_ASSIGN_OR_RETURN(Template t, Template::parse(source));
  return t.render(chat_context(inputs), options);
}

}  // namespace gs::tmpl
