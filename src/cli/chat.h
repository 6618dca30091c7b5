// `genstack run` beyond one local completion: through a running server
// (like `ollama run` / `docker model run`), and interactive chat.
#pragma once

#include <string>

#include "cli/http_client.h"
#include "cli/options.h"
#include "core/status.h"
#include "sampling/sampler.h"

namespace gs::cli {

struct RemoteModel {
  HttpEndpoint endpoint;
  std::string api_key;
  std::string id;
};

struct GenerationArgs {
  int64_t max_tokens = 128;
  SamplingParams sampling;
  bool ignore_eos = false;
};

// Streams a plain completion of `prompt` from the server to stdout.
Status remote_complete(const RemoteModel& model, const std::string& prompt, const GenerationArgs& args);
// Interactive chat on the terminal (">>> " prompts; /bye or EOF ends it).
Status remote_chat(const RemoteModel& model, const GenerationArgs& args);
Status local_chat(Engine& engine, const GenerationArgs& args);

}  // namespace gs::cli
