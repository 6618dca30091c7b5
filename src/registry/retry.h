// When and how long to wait before retrying a registry request: 5xx, 429 and
// connection errors get a few tries with exponential backoff; Retry-After is
// honoured up to a cap. Pure functions, so the policy is tested without sleeping.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace gs::registry {

struct RetryPolicy {
  int max_attempts = 3;                   // tries in all, the first included
  std::chrono::milliseconds base{500};    // wait after the first failure; doubles each time
  std::chrono::milliseconds cap{10'000};  // no single wait is longer (Retry-After included)
  // GENSTACK_RETRY_BASE_MS shortens the base (tests), GENSTACK_RETRY_ATTEMPTS changes the count.
  static RetryPolicy from_env();
};

bool is_retryable_status(long http_status);
// Retry-After in seconds ("120"); HTTP dates and garbage give nullopt.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);
// The wait after failed attempt number `attempt` (1 = the first try failed).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        std::optional<std::chrono::milliseconds> retry_after = {});

}  // namespace gs::registry
