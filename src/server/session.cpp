#include "server/session.h"

#include "server/response_json.h"

namespace gs::server {
namespace {

class ChoiceSink : public SequenceSink {
 public:
  ChoiceSink(std::shared_ptr<Session> session, int32_t choice)
      : session_(std::move(session)), choice_(choice) {}
  void on_token(std::string_view text, const TokenLogprob* logprob) override {
    session_->on_token(choice_, text, logprob);
  }
  void on_finish(const SequenceResult& result) override { session_->on_finish(choice_, result); }
  bool cancelled() const override { return session_->cancelled(); }

 private:
  std::shared_ptr<Session> session_;
  int32_t choice_;
};

bool is_ollama(Api api) { return api == Api::kOllamaChat || api == Api::kOllamaGenerate; }

boost::json::value ollama_tool_calls(const std::vector<tmpl::ToolCall>& calls) {
  boost::json::array out;
  for (const auto& call : calls) {
    boost::system::error_code ec;
    boost::json::value args = boost::json::parse(call.arguments, ec);
    if (ec) args = boost::json::object();
    out.push_back(
        boost::json::object{{"function", boost::json::object{{"name", call.name}, {"arguments", args}}}});
  }
  return out;
}

}  // namespace

Session::Session(SessionSetup setup, std::shared_ptr<http::ResponseWriter> writer,
                 std::shared_ptr<LoadedModel> model, ServerMetrics& metrics)
    : setup_(std::move(setup)),
      writer_(std::move(writer)),
      model_(std::move(model)),
      metrics_(metrics),
      id_(new_id(setup_.api == Api::kChat ? "chatcmpl-" : "cmpl-")),
      created_(unix_seconds()),
      choices_(static_cast<size_t>(setup_.n)) {
  if (setup_.stream && setup_.tool_format != tmpl::ToolCallFormat::kNone) {
    for (Choice& c : choices_) c.tool_stream.emplace(setup_.tool_format);
  }
}

std::shared_ptr<SequenceSink> Session::sink(int32_t choice) {
  return std::make_shared<ChoiceSink>(shared_from_this(), choice);
}

void Session::fail(const ApiError& error, std::vector<std::pair<std::string, std::string>> headers) {
  std::lock_guard<std::mutex> lock(mutex_);
  failed_ = true;
  if (answered_) return;
  answered_ = true;
  if (stream_started_) {
    // Too late for a status code: the error travels as the stream's last event.
    write_event(boost::json::parse(error_body(error)).as_object());
    writer_->end();
  } else {
    writer_->send(error.status, "application/json",
                  is_ollama(setup_.api) ? ollama_error_body(error) : error_body(error), std::move(headers));
  }
  metrics_.request_done(model_->id, setup_.endpoint, error.status);
}

void Session::write_event(const boost::json::object& event) {
  if (is_ollama(setup_.api)) {
    writer_->write(boost::json::serialize(event) + "\n");
  } else {
    writer_->write("data: " + boost::json::serialize(event) + "\n\n");
  }
}

boost::json::object Session::chunk_base(const char* object) const {
  if (is_ollama(setup_.api)) {
    return {{"model", model_->id}, {"created_at", ollama_timestamp(std::chrono::system_clock::now())}};
  }
  return {{"id", id_}, {"object", object}, {"created", created_}, {"model", model_->id}};
}

void Session::start_stream() {
  if (stream_started_) return;
  stream_started_ = true;
  if (is_ollama(setup_.api)) {
    writer_->begin_stream(200, "application/x-ndjson");
    return;
  }
  writer_->begin_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
  if (setup_.api != Api::kChat) return;
  for (int32_t i = 0; i < setup_.n; ++i) {
    auto chunk = chunk_base("chat.completion.chunk");
    chunk["choices"] = {{{"index", i},
                         {"delta", {{"role", "assistant"}, {"content", ""}}},
                         {"logprobs", nullptr},
                         {"finish_reason", nullptr}}};
    write_event(chunk);
  }
}

void Session::on_token(int32_t choice, std::string_view text, const TokenLogprob* logprob) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (answered_) return;
  Choice& c = choices_[static_cast<size_t>(choice)];
  if (logprob) c.logprobs.push_back(*logprob);
  if (!setup_.stream) {
    c.text.append(text);
    return;
  }
  std::string content(text);
  std::vector<tmpl::ToolCall> calls;
  if (c.tool_stream) {
    auto delta = c.tool_stream->feed(text);
    content = std::move(delta.content);
    calls = std::move(delta.tool_calls);
  }
  start_stream();
  if (content.empty() && calls.empty() && !logprob) return;
  stream_delta(choice, content, calls, logprob);
  c.text += content;
  c.tool_calls.insert(c.tool_calls.end(), calls.begin(), calls.end());
}

void Session::stream_delta(int32_t choice, const std::string& text, const std::vector<tmpl::ToolCall>& calls,
                           const TokenLogprob* logprob) {
  const Tokenizer& tok = model_->model->tokenizer();
  Choice& c = choices_[static_cast<size_t>(choice)];
  std::vector<TokenLogprob> lps;
  if (logprob) lps.push_back(*logprob);
  boost::json::object chunk;
  switch (setup_.api) {
    case Api::kChat: {
      chunk = chunk_base("chat.completion.chunk");
      boost::json::object delta;
      if (!text.empty()) delta["content"] = text;
      if (!calls.empty()) delta["tool_calls"] = tool_calls_json(calls, c.tool_calls.size(), true);
      chunk["choices"] = {{{"index", choice},
                           {"delta", delta},
                           {"logprobs", logprob ? boost::json::value(chat_logprobs_json(tok, lps)) : nullptr},
                           {"finish_reason", nullptr}}};
      break;
    }
    case Api::kCompletion:
      chunk = chunk_base("text_completion");
      chunk["choices"] = {
          {{"index", choice},
           {"text", text},
           {"logprobs",
            logprob ? boost::json::value(completion_logprobs_json(tok, lps, c.text.size())) : nullptr},
           {"finish_reason", nullptr}}};
      break;
    case Api::kOllamaChat: {
      chunk = chunk_base("");
      boost::json::object message = {{"role", "assistant"}, {"content", text}};
      if (!calls.empty()) message["tool_calls"] = ollama_tool_calls(calls);
      chunk["message"] = message;
      chunk["done"] = false;
      break;
    }
    case Api::kOllamaGenerate:
      chunk = chunk_base("");
      chunk["response"] = text;
      chunk["done"] = false;
      break;
  }
  write_event(chunk);
}

void Session::on_finish(int32_t choice, const SequenceResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  Choice& c = choices_[static_cast<size_t>(choice)];
  c.done = true;
  c.result = result;
  ++done_count_;
  if (result.reason == FinishReason::kStop || result.reason == FinishReason::kLength) {
    metrics_.sequence_done(model_->id, result.timings);
  }
  if (answered_) return;
  if (setup_.stream && result.reason != FinishReason::kError && result.reason != FinishReason::kCancelled) {
    start_stream();
    if (c.tool_stream) {
      auto delta = c.tool_stream->finish();
      if (!delta.content.empty() || !delta.tool_calls.empty())
        stream_delta(choice, delta.content, delta.tool_calls, nullptr);
      c.text += delta.content;
      c.tool_calls.insert(c.tool_calls.end(), delta.tool_calls.begin(), delta.tool_calls.end());
    }
    stream_finish(choice);
  }
  if (done_count_ == choices_.size()) complete();
}

void Session::stream_finish(int32_t choice) {
  const Choice& c = choices_[static_cast<size_t>(choice)];
  const char* reason = finish_reason_name(c.result.reason, !c.tool_calls.empty());
  boost::json::object chunk;
  switch (setup_.api) {
    case Api::kChat:
      chunk = chunk_base("chat.completion.chunk");
      chunk["choices"] = {{{"index", choice},
                           {"delta", boost::json::object()},
                           {"logprobs", nullptr},
                           {"finish_reason", reason}}};
      chunk["timings"] = timings_json(c.result.timings);
      break;
    case Api::kCompletion:
      chunk = chunk_base("text_completion");
      chunk["choices"] = {
          {{"index", choice}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", reason}}};
      chunk["timings"] = timings_json(c.result.timings);
      break;
    case Api::kOllamaChat:
      chunk = chunk_base("");
      chunk["message"] = {{"role", "assistant"}, {"content", ""}};
      chunk["done"] = true;
      chunk["done_reason"] = reason;
      add_ollama_stats(chunk, c.result.timings, setup_.load_ms);
      break;
    case Api::kOllamaGenerate:
      chunk = chunk_base("");
      chunk["response"] = "";
      chunk["done"] = true;
      chunk["done_reason"] = reason;
      add_ollama_stats(chunk, c.result.timings, setup_.load_ms);
      chunk["context"] = boost::json::array();
      break;
  }
  write_event(chunk);
}

void Session::complete() {
  answered_ = true;
  int status = 200;
  std::string error;
  bool cancelled = false;
  for (const Choice& c : choices_) {
    if (c.result.reason == FinishReason::kError) error = c.result.error;
    if (c.result.reason == FinishReason::kCancelled || c.result.reason == FinishReason::kTimeout)
      cancelled = true;
  }
  if (!error.empty()) {
    status = 500;
    const ApiError e{500, "generation failed: " + error, "server_error", "", ""};
    if (stream_started_) {
      write_event(boost::json::parse(error_body(e)).as_object());
      writer_->end();
    } else {
      writer_->send(500, "application/json", is_ollama(setup_.api) ? ollama_error_body(e) : error_body(e));
    }
  } else if (cancelled) {
    status = writer_->client_gone() ? 499 : 503;
    if (stream_started_) {
      writer_->end();
    } else {
      const ApiError e{503, "the server is shutting down", "server_error", "", ""};
      writer_->send(503, "application/json", is_ollama(setup_.api) ? ollama_error_body(e) : error_body(e));
    }
  } else if (setup_.stream) {
    start_stream();
    if (setup_.include_usage && !is_ollama(setup_.api)) {
      int64_t completion = 0;
      for (const Choice& c : choices_) completion += c.result.timings.predicted_n;
      auto chunk = chunk_base(setup_.api == Api::kChat ? "chat.completion.chunk" : "text_completion");
      chunk["choices"] = boost::json::array();
      chunk["usage"] = usage_json(setup_.prompt_tokens, completion, choices_[0].result.timings.cached_n);
      write_event(chunk);
    }
    if (!is_ollama(setup_.api)) writer_->write("data: [DONE]\n\n");
    writer_->end();
  } else {
    writer_->send(200, "application/json", final_body());
  }
  metrics_.request_done(model_->id, setup_.endpoint, status);
}

std::string Session::final_body() {
  const Tokenizer& tok = model_->model->tokenizer();
  int64_t completion = 0;
  for (const Choice& c : choices_) completion += c.result.timings.predicted_n;
  const SequenceTimings& t0 = choices_[0].result.timings;
  boost::json::object body;
  if (setup_.api == Api::kChat || setup_.api == Api::kCompletion) {
    const bool chat = setup_.api == Api::kChat;
    body = chunk_base(chat ? "chat.completion" : "text_completion");
    boost::json::array choices;
    for (size_t i = 0; i < choices_.size(); ++i) {
      const Choice& c = choices_[i];
      boost::json::object choice = {{"index", i}};
      tmpl::ParsedReply reply{c.text, {}};
      if (chat && setup_.tool_format != tmpl::ToolCallFormat::kNone)
        reply = tmpl::parse_tool_calls(c.text, setup_.tool_format);
      if (chat) {
        boost::json::object message = {{"role", "assistant"}};
        message["content"] =
            reply.tool_calls.empty() || !reply.content.empty() ? boost::json::value(reply.content) : nullptr;
        if (!reply.tool_calls.empty()) message["tool_calls"] = tool_calls_json(reply.tool_calls, 0, false);
        choice["message"] = message;
        choice["logprobs"] =
            setup_.logprobs ? boost::json::value(chat_logprobs_json(tok, c.logprobs)) : nullptr;
      } else {
        choice["text"] = c.text;
        choice["logprobs"] =
            setup_.logprobs ? boost::json::value(completion_logprobs_json(tok, c.logprobs, 0)) : nullptr;
      }
      choice["finish_reason"] = finish_reason_name(c.result.reason, !reply.tool_calls.empty());
      choices.push_back(std::move(choice));
    }
    body["choices"] = std::move(choices);
    body["usage"] = usage_json(setup_.prompt_tokens, completion, t0.cached_n);
    body["timings"] = timings_json(t0);
    return boost::json::serialize(body);
  }
  const Choice& c = choices_[0];
  body = chunk_base("");
  tmpl::ParsedReply reply{c.text, {}};
  if (setup_.api == Api::kOllamaChat) {
    if (setup_.tool_format != tmpl::ToolCallFormat::kNone)
      reply = tmpl::parse_tool_calls(c.text, setup_.tool_format);
    boost::json::object message = {{"role", "assistant"}, {"content", reply.content}};
    if (!reply.tool_calls.empty()) message["tool_calls"] = ollama_tool_calls(reply.tool_calls);
    body["message"] = message;
  } else {
    body["response"] = c.text;
    body["context"] = boost::json::array();
  }
  body["done"] = true;
  body["done_reason"] = finish_reason_name(c.result.reason, false);
  add_ollama_stats(body, t0, setup_.load_ms);
  return boost::json::serialize(body);
}

}  // namespace gs::server
