// Model output -> OpenAI tool calls, for the formats chat templates teach:
//   Llama 3.x   {"name": "f", "parameters": {...}} as the whole reply, or after <|python_tag|>
//   Qwen/Hermes <tool_call>{"name": "f", "arguments": {...}}</tool_call> (any number)
//   Mistral     [TOOL_CALLS][{"name": "f", "arguments": {...}, "id": "..."}]
//               and the newer [TOOL_CALLS]f[ARGS]{...}
// Text around the calls stays content. A call whose JSON does not parse is
// left as content, markers included: the user sees what the model wrote.
//
// ToolCallStream does the same on a streamed reply: feed it text in chunks of
// any size and it hands back content as soon as it cannot be part of a call
// (never a partial marker) and each call once it is complete. The whole reply
// and any chunking of it give the same content and calls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gs::tmpl {

enum class ToolCallFormat { kNone, kLlama3, kHermes, kMistral };

// The format a chat template asks for, from the markers it prints.
ToolCallFormat detect_tool_call_format(std::string_view chat_template);
const char* tool_call_format_name(ToolCallFormat format);

struct ToolCall {
  std::string id;  // the model's (Mistral) or derived from the call: 9 letters and digits
  std::string name;
  std::string arguments;  // JSON text, as OpenAI's function.arguments

  bool operator==(const ToolCall&) const = default;
};

struct ParsedReply {
  std::string content;
  std::vector<ToolCall> tool_calls;
};

ParsedReply parse_tool_calls(std::string_view output, ToolCallFormat format);

class ToolCallStream {
 public:
  struct Delta {
    std::string content;               // append to the message's content
    std::vector<ToolCall> tool_calls;  // complete calls; their index is the count of calls before them
  };

  explicit ToolCallStream(ToolCallFormat format) : format_(format) {}

  Delta feed(std::string_view chunk);
  // The reply has ended: whatever is held back is resolved (as a call if it is
  // a complete one, else as content).
  Delta finish();

 private:
  enum class State { kStart, kText, kTagged, kMistral, kPythonTag, kBareJson, kAfterBareJson };

  void drain(bool final, Delta* out);
  bool step_text(bool final, Delta* out);
  bool step_tagged(bool final, Delta* out);
  bool step_mistral(bool final, Delta* out);
  bool step_python_tag(bool final, Delta* out);
  bool step_bare_json(bool final, Delta* out);
  bool step_after_bare_json(bool final);
  void emit_call(std::string name, std::string arguments, std::string id, Delta* out);

  ToolCallFormat format_;
  State state_ = State::kStart;
  std::string pending_;  // received, not yet handed out
  size_t calls_ = 0;
};

}  // namespace gs::tmpl
