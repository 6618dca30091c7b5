#include "registry/retry.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace gs::registry {
namespace {

std::optional<long> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return std::nullopt;
  long value = 0;
  const char* end = text + std::char_traits<char>::length(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

}  // namespace

RetryPolicy RetryPolicy::from_env() {
  RetryPolicy policy;
  if (auto base = env_number("GENSTACK_RETRY_BASE_MS")) policy.base = std::chrono::milliseconds(*base);
  if (auto attempts = env_number("GENSTACK_RETRY_ATTEMPTS"))
    policy.max_attempts = std::max(1L, std::min(*attempts, 10L));
  return policy;
}

bool is_retryable_status(long http_status) {
  // 501 (not implemented) and 505 will not change on a retry.
  return http_status == 429 || http_status == 408 ||
         (http_status >= 500 && http_status <= 599 && http_status != 501 && http_status != 505);
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long seconds = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || seconds < 0)
    return std::nullopt;
  return std::chrono::milliseconds(std::min(seconds, 86'400L) * 1000);
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        std::optional<std::chrono::milliseconds> retry_after) {
  if (retry_after) return std::min(*retry_after, policy.cap);
  const int doublings = std::clamp(attempt - 1, 0, 20);
  const auto delay = policy.base * (int64_t{1} << doublings);
  return std::min<std::chrono::milliseconds>(delay, policy.cap);
}

}  // namespace gs::registry
