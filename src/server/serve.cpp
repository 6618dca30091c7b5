#include "server/serve.h"

#include <cstdio>
#include <thread>

#include "core/signals.h"
#include "http/server.h"
#include "server/api_server.h"
#include "server/store_models.h"

namespace gs::server {

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

Status serve(const ServeOptions& options) {
  if (options.models.empty()) return Error("no model to serve: give one or more GGUF files");
  if (!is_loopback_host(options.host) && options.api_key.empty() && !options.insecure_public) {
    return Error(
        "refusing to listen on {} without an API key: set --api-key (or GENSTACK_API_KEY), or pass "
        "--insecure-public to expose the server to the network unauthenticated",
        options.host);
  }
  // SIGINT/SIGTERM go to the thread that waits for them, never to a worker.
  sigset_t signals = block_shutdown_signals();

  ThreadPool pool(options.threads);
  ManagerOptions manager = options.manager;
  manager.resolve_unlisted = store_model_spec;
  ModelManager models(options.models, manager, pool);
  if (options.preload) {
    auto first = models.acquire(options.models.front().id);
    if (!first.ok()) return first.status().with_context("loading " + options.models.front().path);
  }
  ServerMetrics metrics;
  ApiServer api(models, metrics, ApiOptions{options.api_key});
  http::ServerOptions http_options;
  http_options.host = options.host;
  http_options.port = options.port;
  http_options.max_body_bytes = options.max_body_bytes;
  http_options.io_threads = 2;
  http_options.tls_cert_file = options.tls_cert_file;
  http_options.tls_key_file = options.tls_key_file;
  GS_ASSIGN_OR_RETURN(
      auto http_server,
      http::Server::create(http_options,
                           [&api](http::Request request, std::shared_ptr<http::ResponseWriter> writer) {
                             api.handle(std::move(request), std::move(writer));
                           }));
  std::printf("genstack: listening on %s://%s:%u\n", options.tls_cert_file.empty() ? "http" : "https",
              options.host.c_str(), http_server->port());
  std::fflush(stdout);

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec tick{1, 0};
    while (!done) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        std::fprintf(stderr, "genstack: shutting down (finishing requests for up to %lld ms)\n",
                     static_cast<long long>(options.shutdown_grace.count()));
        api.begin_shutdown();
        http_server->stop(options.shutdown_grace);
        return;
      }
      models.expire();
    }
  });
  http_server->run();
  done = true;
  watcher.join();
  models.unload_all();
  return Status::Ok();
}

}  // namespace gs::server
