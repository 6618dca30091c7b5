// One API request in flight: the sinks of its choices (n of them), turned
// into the right response: a JSON object at the end, or SSE / NDJSON chunks
// as tokens arrive. All sink calls come from one scheduler thread; the
// request's own thread only starts it or fails it, so a mutex suffices.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "engine/request.h"
#include "http/server.h"
#include "server/api_error.h"
#include "server/model_manager.h"
#include "server/server_metrics.h"
#include "template/tool_calls.h"

namespace gs::server {

enum class Api { kChat, kCompletion, kOllamaChat, kOllamaGenerate };

struct SessionSetup {
  Api api = Api::kChat;
  std::string endpoint;  // for metrics
  bool stream = false;
  bool include_usage = false;
  int32_t n = 1;
  int64_t prompt_tokens = 0;
  bool logprobs = false;
  tmpl::ToolCallFormat tool_format = tmpl::ToolCallFormat::kNone;  // kNone: no tools in the request
  double load_ms = 0;                                              // Ollama's load_duration
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(SessionSetup setup, std::shared_ptr<http::ResponseWriter> writer,
          std::shared_ptr<LoadedModel> model, ServerMetrics& metrics);

  std::shared_ptr<SequenceSink> sink(int32_t choice);
  // Answers with an error, unless something was already sent; later sink
  // calls are ignored.
  void fail(const ApiError& error, std::vector<std::pair<std::string, std::string>> headers = {});

  void on_token(int32_t choice, std::string_view text, const TokenLogprob* logprob);
  void on_finish(int32_t choice, const SequenceResult& result);
  bool cancelled() const { return writer_->client_gone() || failed_.load(); }

 private:
  struct Choice {
    std::string text;
    std::vector<TokenLogprob> logprobs;
    std::optional<tmpl::ToolCallStream> tool_stream;
    std::vector<tmpl::ToolCall> tool_calls;
    bool started = false;
    bool done = false;
    SequenceResult result;
  };
  void start_stream();
  void stream_delta(int32_t choice, const std::string& text, const std::vector<tmpl::ToolCall>& calls,
                    const TokenLogprob* logprob);
  void stream_finish(int32_t choice);
  void complete();
  std::string final_body();
  boost::json::object chunk_base(const char* object) const;
  void write_event(const boost::json::object& event);

  SessionSetup setup_;
  std::shared_ptr<http::ResponseWriter> writer_;
  std::shared_ptr<LoadedModel> model_;
  ServerMetrics& metrics_;
  std::string id_;
  int64_t created_;
  std::mutex mutex_;
  std::vector<Choice> choices_;
  size_t done_count_ = 0;
  bool stream_started_ = false;
  bool answered_ = false;
  std::atomic<bool> failed_{false};
};

}  // namespace gs::server
