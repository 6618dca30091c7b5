// The runtime of `genstack up`: one scaler thread that, every second, reads
// each model's replicas' queues, asks the policy (scaling.h) how many there
// should be, and starts or drains replicas; the gateway's demand hook wakes
// it for a cold start.
#include "gateway/stack.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "gateway/gateway_internal.h"
#include "gateway/replicas.h"

namespace gs::gateway {
namespace {

using std::chrono::milliseconds;

constexpr auto kTick = std::chrono::seconds(1);
constexpr milliseconds kScrapeTimeout{2000};
constexpr milliseconds kStopGrace{10000};

struct Replica {
  ReplicaProcess process;
  size_t upstream = 0;  // the gateway's index
  double tokens_total = -1;
};

struct ModelState {
  const ModelStack* spec = nullptr;
  std::vector<Replica> ready;     // taking requests
  std::vector<Replica> draining;  // removed from the pool, finishing requests
  double last_request = 0;
  bool cold_start_wanted = false;
  SampleWindow queue;
  SampleWindow tokens_per_s;
  ScalingState scaling;
  int serial = 0;  // names replicas: MODEL-1, MODEL-2, ...
  bool started = false;
  int start_failures = 0;  // wakes cold-start waiters when a start failed
};

class Stack {
 public:
  Stack(const StackConfig& config, std::string binary, Gateway& gateway)
      : binary_(std::move(binary)), gateway_(gateway) {
    for (const ModelStack& m : config.models) {
      models_.push_back(ModelState{});
      models_.back().spec = &m;
      models_.back().last_request = gateway.now();
    }
    gateway_.set_demand_hook([this](const std::string& model) { return on_demand(model); });
    thread_ = std::thread([this] { run(); });
  }

  ~Stack() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
    std::vector<pid_t> pids;
    for (ModelState& m : models_) {
      for (const auto* list : {&m.ready, &m.draining}) {
        for (const Replica& r : *list) pids.push_back(r.process.pid);
      }
    }
    stop_replicas(pids, kStopGrace);
  }

 private:
  bool on_demand(const std::string& model) {
    std::unique_lock lock(mutex_);
    ModelState* m = find(model);
    if (!m) return true;  // a configured route, not a replica pool
    m->last_request = gateway_.now();
    if (!m->ready.empty()) return true;
    m->cold_start_wanted = true;
    changed_.notify_all();
    const auto timeout = milliseconds(static_cast<int64_t>(m->spec->start_timeout_s * 1000));
    const int failures = m->start_failures;
    const bool ready = changed_.wait_for(
        lock, timeout, [&] { return stopping_ || !m->ready.empty() || m->start_failures != failures; });
    m->last_request = gateway_.now();  // the wait may have outlasted idle_to_zero_s
    return ready && !stopping_ && !m->ready.empty();
  }

  ModelState* find(const std::string& name) {
    for (ModelState& m : models_) {
      if (m.spec->name == name) return &m;
    }
    return nullptr;
  }

  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      for (ModelState& m : models_) tick(m);
      lock.lock();
      const auto cold = [&] {
        return std::any_of(models_.begin(), models_.end(),
                           [](const ModelState& m) { return m.cold_start_wanted; });
      };
      changed_.wait_for(lock, kTick, [&] { return stopping_ || cold(); });
    }
  }

  void tick(ModelState& m) {
    reap_exited(m);
    finish_draining(m);
    const int n = ready_count(m);
    bool cold_start = false;
    double last_request = 0;
    {
      std::lock_guard lock(mutex_);
      if (busy(m)) m.last_request = gateway_.now();  // a long request is not idleness
      cold_start = m.cold_start_wanted && m.ready.empty();
      m.cold_start_wanted = false;
      last_request = m.last_request;
    }
    if (cold_start) return scale(m, 1, "cold start");
    if (!m.started) {  // min replicas even where idle_to_zero_s would leave none
      m.started = true;
      if (m.spec->replicas.min > 0) return scale(m, m.spec->replicas.min, "start");
    }
    sample(m);
    const ScalingInput input{gateway_.now(), n, m.queue.average(), m.tokens_per_s.average(), last_request};
    const ScalingDecision decision = decide_replicas(m.spec->replicas, input, m.scaling);
    publish(m);
    if (decision.replicas != n) scale(m, decision.replicas, decision.reason);
  }

  bool busy(const ModelState& m) const {
    return std::any_of(m.ready.begin(), m.ready.end(),
                       [&](const Replica& r) { return gateway_.upstream_outstanding(r.upstream) > 0; });
  }

  int ready_count(ModelState& m) {
    std::lock_guard lock(mutex_);
    return static_cast<int>(m.ready.size());
  }

  // Per-replica averages: the queue, and tokens/s since the last scrape.
  void sample(ModelState& m) {
    const double now = gateway_.now();
    double queue = 0, tokens = 0;
    int counted = 0;
    for (Replica& r : m.ready) {  // only this thread changes the list's replicas' fields
      auto load = read_replica_load(r.process.port, kScrapeTimeout);
      if (!load.ok()) continue;
      queue += load->queue;
      if (r.tokens_total >= 0) tokens += std::max(0.0, load->tokens_total - r.tokens_total);
      r.tokens_total = load->tokens_total;
      ++counted;
    }
    if (counted == 0) return;
    m.queue.add(now, queue / counted);
    m.tokens_per_s.add(now, tokens / counted / std::chrono::duration<double>(kTick).count());
  }

  void publish(const ModelState& m) {
    const obs::Labels labels{{"model", m.spec->name}};
    gateway_.registry()
        .gauge("genstack_up_replicas", "Replicas of the model taking requests (genstack up).", labels)
        .set(static_cast<double>(m.ready.size()));
    gateway_.registry()
        .gauge("genstack_up_queue_depth", "Requests waiting per replica, averaged over a few seconds.",
               labels)
        .set(m.queue.average());
  }

  void scale(ModelState& m, int wanted, const std::string& reason) {
    const int n = ready_count(m);
    std::fprintf(stderr, "genstack: up: %s %d -> %d replicas (%s)\n", m.spec->name.c_str(), n, wanted,
                 reason.c_str());
    for (int i = n; i < wanted; ++i) {
      if (!add_replica(m)) break;
    }
    for (int i = wanted; i < n; ++i) drain_one(m);
    m.queue.clear();  // the old replicas' samples say nothing about the new count
    m.tokens_per_s.clear();
    publish(m);
  }

  bool add_replica(ModelState& m) {
    const ModelStack& spec = *m.spec;
    const auto timeout = milliseconds(static_cast<int64_t>(spec.start_timeout_s * 1000));
    auto process = start_replica(binary_, spec.model, spec.serve_args, timeout);
    if (!process.ok()) {
      std::fprintf(stderr, "genstack: up: %s: %s\n", spec.name.c_str(), process.status().message().c_str());
      {
        std::lock_guard lock(mutex_);
        ++m.start_failures;
      }
      changed_.notify_all();
      return false;
    }
    UpstreamConfig upstream;
    upstream.name = spec.name + "-" + std::to_string(++m.serial);
    upstream.url = "http://127.0.0.1:" + std::to_string(process->port);
    upstream.host = "127.0.0.1";
    upstream.port = std::to_string(process->port);
    std::fprintf(stderr, "genstack: up: %s: replica %s (pid %d) ready on %s\n", spec.name.c_str(),
                 upstream.name.c_str(), static_cast<int>(process->pid), upstream.url.c_str());
    const size_t index = gateway_.add_upstream(spec.name, std::move(upstream));
    {
      std::lock_guard lock(mutex_);
      m.ready.push_back(Replica{*process, index});
    }
    changed_.notify_all();
    return true;
  }

  // The replica with the fewest requests in flight stops taking new ones.
  void drain_one(ModelState& m) {
    std::lock_guard lock(mutex_);
    if (m.ready.empty()) return;
    auto it = std::min_element(m.ready.begin(), m.ready.end(), [&](const Replica& a, const Replica& b) {
      return gateway_.upstream_outstanding(a.upstream) < gateway_.upstream_outstanding(b.upstream);
    });
    gateway_.remove_upstream(it->upstream);
    m.draining.push_back(*it);
    m.ready.erase(it);
  }

  void finish_draining(ModelState& m) {
    std::vector<Replica> idle;
    {
      std::lock_guard lock(mutex_);
      std::erase_if(m.draining, [&](const Replica& r) {
        if (gateway_.upstream_outstanding(r.upstream) > 0) return false;
        idle.push_back(r);
        return true;
      });
    }
    std::vector<pid_t> pids;
    for (const Replica& r : idle) pids.push_back(r.process.pid);
    if (!pids.empty()) stop_replicas(pids, kStopGrace);
    for (const Replica& r : idle) gateway_.release_upstream(r.upstream);
  }

  // A replica that died is dropped from the pool; the policy replaces it.
  void reap_exited(ModelState& m) {
    std::lock_guard lock(mutex_);
    std::erase_if(m.ready, [&](const Replica& r) {
      if (!replica_exited(r.process.pid)) return false;
      std::fprintf(stderr, "genstack: up: %s: replica pid %d exited\n", m.spec->name.c_str(),
                   static_cast<int>(r.process.pid));
      gateway_.remove_upstream(r.upstream);
      gateway_.release_upstream(r.upstream);
      return true;
    });
  }

  const std::string binary_;
  Gateway& gateway_;
  std::vector<ModelState> models_;
  std::mutex mutex_;  // guards the replica lists, last_request, cold_start_wanted, stopping_
  std::condition_variable changed_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

Status run_stack(const StackConfig& config, const std::string& binary) {
  std::unique_ptr<Stack> stack;
  GatewayHooks hooks;
  hooks.attach = [&](Gateway& gateway) { stack = std::make_unique<Stack>(config, binary, gateway); };
  hooks.stopped = [&] { stack.reset(); };
  return run_gateway(config.gateway, hooks);
}

}  // namespace gs::gateway
