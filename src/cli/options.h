// Options shared by the commands that load a model, and loading itself.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/thread_pool.h"
#include "model/context.h"
#include "model/model.h"
#include "sampling/sampler.h"

namespace gs::cli {

struct EngineArgs {
  int threads = 0;
  int64_t ctx = 0;
  int64_t batch = 512;
  std::string kv_type = "f16";
};

struct Engine {
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Model> model;
  std::unique_ptr<Context> context;
};

void add_engine_options(CLI::App& cmd, EngineArgs& args);
void add_sampling_options(CLI::App& cmd, SamplingParams& params);
Result<Engine> load_engine(const EngineArgs& args, const std::string& model_path);
// Parses an f16 / q8_0 / f32 KV cache type name.
Result<GgmlType> parse_kv_type(const std::string& name);

}  // namespace gs::cli
