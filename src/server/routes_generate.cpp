// The generation endpoints: OpenAI chat / completions and Ollama chat /
// generate. Validate, build the prompt, queue one sequence per choice.
#include <fmt/format.h>

#include "server/api_server.h"
#include "server/chat_prompt.h"
#include "server/generation_params.h"
#include "server/response_json.h"
#include "server/session.h"

namespace gs::server {
namespace {

// Queues n sequences per prompt (choice index = prompt * n + i); choice i
// samples with seed + i so that n choices differ yet stay reproducible.
void submit_choices(LoadedModel& model, const std::shared_ptr<Session>& session,
                    const GenerationRequest& base, const std::vector<std::vector<TokenId>>& prompts,
                    int32_t n) {
  int32_t index = 0;
  for (const auto& prompt : prompts) {
    for (int32_t i = 0; i < n; ++i) {
      GenerationRequest r = base;
      r.prompt = prompt;
      r.sampling.seed = base.sampling.seed + static_cast<uint64_t>(i);
      switch (model.scheduler->submit(std::move(r), session->sink(index++))) {
        case Scheduler::Admission::kAccepted:
          break;
        case Scheduler::Admission::kQueueFull:
          return session->fail(ApiError{429, "the server is busy: too many queued requests; retry later",
                                        "rate_limit_error", "", "queue_full"},
                               {{"Retry-After", "1"}});
        case Scheduler::Admission::kTooLong:
          return session->fail(context_exceeded(prompt.size(), model.scheduler->n_ctx()));
        case Scheduler::Admission::kStopped:
          return session->fail(ApiError{503, "the server is shutting down", "server_error", "", ""});
      }
    }
  }
}

}  // namespace

void ApiServer::openai_generate(const http::Request& request, const Writer& w, bool chat) {
  const std::string_view endpoint = chat ? "/v1/chat/completions" : "/v1/completions";
  if (shutting_down_)
    return send_error(w, ApiError{503, "the server is shutting down", "server_error", "", ""}, endpoint);
  auto body = parse_body(request, w, endpoint);
  if (!body) return;
  OpenAiParams params;
  if (auto error = parse_openai_params(*body, chat, params)) return send_error(w, *error, endpoint);
  const auto* messages = body->if_contains(chat ? "messages" : "prompt");
  if (!messages)
    return send_error(
        w,
        bad_request(chat ? "'messages' is required" : "'prompt' is required", chat ? "messages" : "prompt"),
        endpoint);
  auto model = resolve_model(*body, w, endpoint, "model");
  if (!model) return;

  SessionSetup setup;
  setup.api = chat ? Api::kChat : Api::kCompletion;
  setup.endpoint = std::string(endpoint);
  setup.stream = params.stream;
  setup.include_usage = params.include_usage;
  setup.n = params.n;
  setup.logprobs = params.request.logprobs >= 0;
  std::vector<std::vector<TokenId>> prompts;
  if (chat) {
    const auto* tools = body->if_contains("tools");
    const boost::json::value no_tools;
    auto prompt = render_chat_prompt(*model, *messages, tools ? *tools : no_tools);
    if (auto* error = std::get_if<ApiError>(&prompt)) return send_error(w, *error, endpoint);
    prompts.push_back(std::move(std::get<ChatPrompt>(prompt).tokens));
    const auto* choice = body->if_contains("tool_choice");
    const bool tools_off = choice && choice->is_string() && choice->get_string() == "none";
    if (tools && tools->is_array() && !tools->get_array().empty() && !tools_off)
      setup.tool_format = model->tool_format;
  } else {
    std::vector<std::string> texts;
    if (messages->is_string()) {
      texts.emplace_back(messages->get_string());
    } else if (messages->is_array() && !messages->get_array().empty() && messages->get_array().size() <= 16) {
      for (const auto& p : messages->get_array()) {
        if (!p.is_string())
          return send_error(w, bad_request("'prompt' must be a string or an array of strings", "prompt"),
                            endpoint);
        texts.emplace_back(p.get_string());
      }
    } else {
      return send_error(w, bad_request("'prompt' must be a string or an array of 1 to 16 strings", "prompt"),
                        endpoint);
    }
    prompts.clear();
    for (const auto& text : texts) prompts.push_back(encode_completion_prompt(*model, text));
  }
  setup.prompt_tokens = 0;
  for (const auto& prompt : prompts) {
    if (static_cast<int64_t>(prompt.size()) >= model->scheduler->n_ctx()) {
      return send_error(w, context_exceeded(prompt.size(), model->scheduler->n_ctx()), endpoint);
    }
    setup.prompt_tokens += static_cast<int64_t>(prompt.size());
  }
  setup.n = params.n * static_cast<int32_t>(prompts.size());
  auto session = std::make_shared<Session>(setup, w, model, metrics_);
  submit_choices(*model, session, params.request, prompts, params.n);
}

void ApiServer::ollama_generate(const http::Request& request, const Writer& w, bool chat) {
  const std::string_view endpoint = chat ? "/api/chat" : "/api/generate";
  if (shutting_down_)
    return send_error(w, ApiError{503, "the server is shutting down", "server_error", "", ""}, endpoint);
  auto body = parse_body(request, w, endpoint);
  if (!body) return;
  OllamaParams params;
  if (auto error = parse_ollama_params(*body, params)) return send_error(w, *error, endpoint);
  const auto start = std::chrono::steady_clock::now();
  auto model = resolve_model(*body, w, endpoint, "model", params.keep_alive);
  if (!model) return;
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  const auto* input = body->if_contains(chat ? "messages" : "prompt");
  const bool empty = !input || input->is_null() || (input->is_string() && input->get_string().empty()) ||
                     (input->is_array() && input->get_array().empty());
  if (empty) {
    // Ollama's way to load (or, with keep_alive 0, unload) a model.
    boost::json::object done = {{"model", model->id},
                                {"created_at", ollama_timestamp(std::chrono::system_clock::now())},
                                {"done", true},
                                {"done_reason", "load"}};
    if (chat) {
      done["message"] = {{"role", "assistant"}, {"content", ""}};
    } else {
      done["response"] = "";
    }
    return send_json(w, done);
  }
  SessionSetup setup;
  setup.api = chat ? Api::kOllamaChat : Api::kOllamaGenerate;
  setup.endpoint = std::string(endpoint);
  setup.stream = params.stream;
  setup.load_ms = load_ms;
  if (chat) {
    const auto* tools = body->if_contains("tools");
    const boost::json::value no_tools;
    auto prompt = render_chat_prompt(*model, *input, tools ? *tools : no_tools);
    if (auto* error = std::get_if<ApiError>(&prompt)) return send_error(w, *error, endpoint);
    params.request.prompt = std::move(std::get<ChatPrompt>(prompt).tokens);
    if (tools && tools->is_array() && !tools->get_array().empty()) setup.tool_format = model->tool_format;
  } else {
    if (!input->is_string())
      return send_error(w, bad_request("'prompt' must be a string", "prompt"), endpoint);
    const auto* raw = body->if_contains("raw");
    if (raw && raw->is_bool() && raw->get_bool()) {
      params.request.prompt = encode_completion_prompt(*model, input->get_string());
    } else {
      // Like Ollama: the prompt is a user turn in the model's template.
      boost::json::array messages;
      if (const auto* system = body->if_contains("system"); system && system->is_string()) {
        messages.push_back({{"role", "system"}, {"content", system->get_string()}});
      }
      messages.push_back({{"role", "user"}, {"content", input->get_string()}});
      auto prompt = render_chat_prompt(*model, messages, boost::json::value());
      if (auto* error = std::get_if<ApiError>(&prompt)) return send_error(w, *error, endpoint);
      params.request.prompt = std::move(std::get<ChatPrompt>(prompt).tokens);
    }
  }
  if (static_cast<int64_t>(params.request.prompt.size()) >= model->scheduler->n_ctx()) {
    return send_error(w, context_exceeded(params.request.prompt.size(), model->scheduler->n_ctx()), endpoint);
  }
  setup.prompt_tokens = static_cast<int64_t>(params.request.prompt.size());
  auto session = std::make_shared<Session>(setup, w, model, metrics_);
  submit_choices(*model, session, params.request, {params.request.prompt}, 1);
}

}  // namespace gs::server
