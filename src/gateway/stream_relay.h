// Splits an SSE or NDJSON body into whole events as bytes arrive, so that
// the gateway relays events one by one and, when an upstream stream breaks,
// can close it with a well-formed error event instead of half an event.
// Also reads token usage from what passes by.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gs::gateway {

enum class StreamFormat { kSse, kNdjson };

class EventSplitter {
 public:
  explicit EventSplitter(StreamFormat format) : format_(format) {}
  // Whole events completed by `bytes` (each with its delimiter).
  std::vector<std::string> feed(std::string_view bytes);
  // Bytes after the last complete event.
  const std::string& partial() const { return pending_; }

 private:
  StreamFormat format_;
  std::string pending_;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  bool seen = false;
};

// Reads OpenAI "usage" or Ollama prompt_eval_count/eval_count from one JSON
// document, an SSE event ("data: {...}") or an NDJSON line; adds to `usage`.
// Returns true when the event is a usage-only OpenAI chunk (no choices).
bool scan_usage(std::string_view event, Usage& usage);
// The same for a whole answer (not streamed), parsing only its "usage" object
// when it has one at the end (as OpenAI-compatible servers write it): the
// rest of an answer can be long and need not be parsed.
void scan_answer_usage(std::string_view body, Usage& usage);

// Why an event from an upstream cannot be relayed ("" when it can): an SSE
// event must hold only data/event/id/retry fields or comments and its data
// must be JSON or [DONE]; an NDJSON line must be JSON.
std::string malformed_event_reason(StreamFormat format, std::string_view event);

// The event that ends a broken stream: for SSE an error event and [DONE],
// for NDJSON one {"error": ...} line.
std::string stream_error_event(StreamFormat format, std::string_view message,
                               std::string_view code = "stream_interrupted");

}  // namespace gs::gateway
