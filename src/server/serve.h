// `genstack serve`: the whole server: models, schedulers, HTTP, metrics,
// signal handling. Returns when SIGINT/SIGTERM has shut it down.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/model_manager.h"

namespace gs::server {

struct ServeOptions {
  std::vector<ModelSpec> models;
  std::string host = "127.0.0.1";
  uint16_t port = 11434;
  std::string api_key;
  bool insecure_public = false;  // listen beyond loopback without an API key
  ManagerOptions manager;
  int threads = 0;
  size_t max_body_bytes = 8u << 20;
  std::chrono::milliseconds shutdown_grace{10000};
  bool preload = true;        // load the first model before listening
  std::string tls_cert_file;  // PEM; with tls_key_file: serve HTTPS only
  std::string tls_key_file;
};

Status serve(const ServeOptions& options);

// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

}  // namespace gs::server
