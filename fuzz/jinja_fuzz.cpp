// libFuzzer target for the Jinja interpreter: each input is a template source,
// rendered against a fixed chat context (messages with tool calls, tools,
// bos/eos tokens). Templates come from model files, so any input must end in
// either an output within the limits or an error that names a source position
// ("line L, column C: ...") -- never a crash, a hang or unbounded memory.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json.hpp>

#include "template/template.h"

namespace {

const boost::json::object& context() {
  static const boost::json::object ctx = boost::json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Weather in Paris? \u00e9\u4f60\ud83d\ude00"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call00001", "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": [1, 2.5, true, null]}}}]},
      {"role": "tool", "tool_call_id": "call00001", "content": "{\"temp\": 21}"},
      {"role": "assistant", "content": "<think>\nok\n</think>\n\nIt is 21 degrees."}
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "add_generation_prompt": true,
    "bos_token": "<s>",
    "eos_token": "</s>"
  })")
                                             .as_object();
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto parsed = gs::tmpl::Template::parse(source);
  if (!parsed.ok()) {
    if (parsed.error().rfind("line ", 0) != 0) std::abort();  // every syntax error names a position
    return 0;
  }
  gs::tmpl::RenderOptions options;
  options.max_output_bytes = 1 << 20;
  options.max_steps = 200'000;
  options.max_depth = 100;
  options.now = std::tm{};
  auto out = parsed->render(context(), options);
  if (out.ok()) {
    if (out->size() > options.max_output_bytes) std::abort();
  } else if (out.error().rfind("line ", 0) != 0) {
    std::abort();  // runtime errors are positioned too
  }
  return 0;
}
