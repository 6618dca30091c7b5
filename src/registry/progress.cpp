#include "registry/progress.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

namespace gs::registry {
namespace {

using Clock = std::chrono::steady_clock;

struct BlobState {
  Clock::time_point started = Clock::now();
  uint64_t start_bytes = 0;  // a resumed download starts here: not counted in the speed
  uint64_t completed = 0, total = 0;
  Clock::time_point last_line{};
  bool done = false;
};

class Printer {
 public:
  Printer(std::FILE* out, bool terminal) : out_(out), terminal_(terminal) {}

  void on(const Progress& p) {
    std::lock_guard lock(mutex_);
    const bool transfer = (p.status.starts_with("pulling ") || p.status.starts_with("pushing ")) &&
                          !p.status.ends_with(" manifest");
    if (!transfer) {
      if (p.status != "success") line(p.status);
      return;
    }
    const std::string key = p.digest.empty() ? p.status : p.digest;
    auto [it, fresh] = blobs_.try_emplace(key);
    BlobState& b = it->second;
    if (fresh) b.start_bytes = p.completed;
    b.completed = p.completed;
    b.total = p.total;
    const std::string verb = p.status.substr(0, p.status.find(' '));  // "pulling" / "pushing"
    if (p.done && !b.done) {
      b.done = true;
      const std::string past = verb == "pushing" ? "pushed" : "pulled";
      line(p.skipped ? fmt::format("{} {} ({}, {})", past, short_name(key),
                                   human_bytes(static_cast<double>(p.total)),
                                   verb == "pushing" ? "already on the registry" : "already present")
                     : fmt::format("{} {} ({}, {})", past, short_name(key),
                                   human_bytes(static_cast<double>(p.total)), speed(b)));
      return;
    }
    if (b.done) return;
    if (terminal_) return redraw(verb);
    const auto now = Clock::now();
    if (now - b.last_line < std::chrono::seconds(1)) return;
    b.last_line = now;
    line(fmt::format("{} {} {}% {}", verb, short_name(key), percent(b.completed, b.total), speed(b)));
  }

 private:
  static std::string short_name(const std::string& key) {
    return key.starts_with("sha256:") ? key.substr(0, 19) + "..." : key;
  }
  static int percent(uint64_t completed, uint64_t total) {
    return total ? static_cast<int>(100.0 * static_cast<double>(completed) / static_cast<double>(total)) : 0;
  }
  static std::string speed(const BlobState& b) {
    const double seconds = std::chrono::duration<double>(Clock::now() - b.started).count();
    const double bytes = static_cast<double>(b.completed - std::min(b.completed, b.start_bytes));
    return seconds > 0 ? human_bytes(bytes / seconds) + "/s" : "-";
  }
  // A finished line; on a terminal the bar is cleared first and drawn again by the next event.
  void line(const std::string& text) {
    std::fprintf(out_, terminal_ ? "\r\x1b[K%s\n" : "%s\n", text.c_str());
    std::fflush(out_);
  }
  void redraw(const std::string& verb) {
    uint64_t completed = 0, total = 0;
    int active = 0;
    for (const auto& [key, b] : blobs_) {
      completed += b.completed;
      total += b.total;
      active += b.done ? 0 : 1;
    }
    constexpr int kWidth = 30;
    const int filled =
        total ? static_cast<int>(kWidth * static_cast<double>(completed) / static_cast<double>(total)) : 0;
    std::fprintf(out_, "\r\x1b[K%s %d blob%s [%s%s] %3d%% %s / %s", verb.c_str(), active,
                 active == 1 ? "" : "s", std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, ' ').c_str(), percent(completed, total),
                 human_bytes(static_cast<double>(completed)).c_str(),
                 human_bytes(static_cast<double>(total)).c_str());
    std::fflush(out_);
  }

  std::FILE* out_;
  bool terminal_;
  std::mutex mutex_;
  std::map<std::string, BlobState> blobs_;
};

}  // namespace

std::string human_bytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 4) {
    bytes /= 1000;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

ProgressFn progress_printer(std::FILE* out, bool terminal) {
  auto printer = std::make_shared<Printer>(out, terminal);
  return [printer](const Progress& p) { printer->on(p); };
}

}  // namespace gs::registry
