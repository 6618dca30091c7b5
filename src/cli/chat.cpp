#include "cli/chat.h"

#include <cstdio>
#include <iostream>

#include <boost/json.hpp>

#include "engine/generator.h"
#include "template/chat_template.h"

namespace gs::cli {
namespace {

// Splits a server-sent-event stream into the JSON payloads of its data lines.
class SseReader {
 public:
  template <typename Fn>
  void feed(std::string_view piece, Fn&& on_event) {
    pending_.append(piece);
    size_t end;
    while ((end = pending_.find('\n')) != std::string::npos) {
      const std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      if (line.rfind("data: ", 0) == 0 && line != "data: [DONE]") on_event(line.substr(6));
    }
  }

 private:
  std::string pending_;
};

boost::json::object request_body(const std::string& model, const GenerationArgs& args) {
  boost::json::object body = {{"model", model},
                              {"stream", true},
                              {"temperature", args.sampling.temperature},
                              {"top_p", args.sampling.top_p},
                              {"top_k", args.sampling.top_k},
                              {"min_p", args.sampling.min_p},
                              {"repeat_penalty", args.sampling.repeat_penalty},
                              {"presence_penalty", args.sampling.presence_penalty},
                              {"frequency_penalty", args.sampling.frequency_penalty},
                              {"seed", args.sampling.seed},
                              {"ignore_eos", args.ignore_eos}};
  if (args.max_tokens > 0) body["max_tokens"] = args.max_tokens;
  return body;
}

// Posts `body`, prints each streamed piece of text; returns the whole text.
Result<std::string> stream_text(const RemoteModel& model, const std::string& path,
                                const boost::json::object& body, bool chat) {
  SseReader sse;
  std::string text;
  auto result = http_post_stream(model.endpoint, path, boost::json::serialize(body), model.api_key,
                                 [&](std::string_view piece) {
                                   sse.feed(piece, [&](const std::string& data) {
                                     boost::system::error_code ec;
                                     auto event = boost::json::parse(data, ec);
                                     if (ec || !event.is_object()) return;
                                     const auto* choices = event.get_object().if_contains("choices");
                                     if (!choices || !choices->is_array() || choices->get_array().empty())
                                       return;
                                     const auto& c = choices->get_array()[0].get_object();
                                     const boost::json::value* t = nullptr;
                                     if (chat) {
                                       if (const auto* d = c.if_contains("delta"); d && d->is_object()) {
                                         t = d->get_object().if_contains("content");
                                       }
                                     } else {
                                       t = c.if_contains("text");
                                     }
                                     if (t && t->is_string()) {
                                       std::fwrite(t->get_string().data(), 1, t->get_string().size(), stdout);
                                       std::fflush(stdout);
                                       text += t->get_string();
                                     }
                                   });
                                   return true;
                                 });
  if (!result.ok()) return result.status();
  if (result->status != 200) {
    boost::system::error_code ec;
    auto error = boost::json::parse(result->body, ec);
    const auto* e = !ec && error.is_object() ? error.get_object().if_contains("error") : nullptr;
    const auto* m = e && e->is_object() ? e->get_object().if_contains("message") : nullptr;
    return Error("server answered {}: {}", result->status,
                 m && m->is_string() ? std::string(m->get_string()) : result->body);
  }
  return text;
}

}  // namespace

Status remote_complete(const RemoteModel& model, const std::string& prompt, const GenerationArgs& args) {
  auto body = request_body(model.id, args);
  body["prompt"] = prompt;
  auto text = stream_text(model, "/v1/completions", body, false);
  std::fputc('\n', stdout);
  return text.ok() ? Status::Ok() : text.status();
}

Status remote_chat(const RemoteModel& model, const GenerationArgs& args) {
  boost::json::array messages;
  std::string line;
  for (;;) {
    std::fputs(">>> ", stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line) || line == "/bye") break;
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    auto body = request_body(model.id, args);
    body["messages"] = messages;
    auto reply = stream_text(model, "/v1/chat/completions", body, true);
    std::fputs("\n\n", stdout);
    if (!reply.ok()) return reply.status();
    messages.push_back({{"role", "assistant"}, {"content", *reply}});
  }
  return Status::Ok();
}

Status local_chat(Engine& engine, const GenerationArgs& args) {
  const Tokenizer& tok = engine.model->tokenizer();
  auto own = engine.model->file().get_string("tokenizer.chat_template");
  const std::string source = own.ok() ? *own : std::string(tmpl::chatml_fallback_template());
  tmpl::ChatInputs inputs;
  inputs.bos_token = tok.bos() >= 0 ? tok.token_text(tok.bos()) : "";
  inputs.eos_token = tok.eos() >= 0 ? tok.token_text(tok.eos()) : "";
  std::vector<TokenId> cached;  // what the context holds
  std::string line;
  for (;;) {
    std::fputs(">>> ", stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line) || line == "/bye") break;
    if (line.empty()) continue;
    inputs.messages.push_back({{"role", "user"}, {"content", line}});
    GS_ASSIGN_OR_RETURN(std::string prompt, tmpl::render_chat_template(source, inputs));
    const bool has_bos = !inputs.bos_token.empty() && prompt.starts_with(inputs.bos_token);
    std::vector<TokenId> ids = tok.encode(prompt, tok.add_bos_default() && !has_bos, true);
    // Earlier turns stay in the KV cache: only the new tokens are evaluated.
    size_t common = 0;
    while (common < cached.size() && common < ids.size() && cached[common] == ids[common]) ++common;
    if (common == ids.size()) --common;
    engine.context->truncate(static_cast<int64_t>(common));
    GenerateOptions options;
    options.max_tokens = args.max_tokens;
    options.sampling = args.sampling;
    options.ignore_eos = args.ignore_eos;
    std::string reply;
    auto stats = generate(*engine.context, tok, std::span<const TokenId>(ids).subspan(common), options,
                          [&](std::string_view text) {
                            std::fwrite(text.data(), 1, text.size(), stdout);
                            std::fflush(stdout);
                            reply += text;
                            return true;
                          });
    std::fputs("\n\n", stdout);
    if (!stats.ok()) return stats.status();
    cached = ids;
    engine.context->truncate(static_cast<int64_t>(ids.size()));
    inputs.messages.push_back({{"role", "assistant"}, {"content", reply}});
  }
  return Status::Ok();
}

}  // namespace gs::cli
