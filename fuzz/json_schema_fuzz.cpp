// libFuzzer target for the response_format grammar. An input is a JSON
// Schema text, optionally followed by a NUL byte and document bytes. Schemas
// come from API clients, so compiling must end in a grammar or a one-line
// error; a compiled grammar then takes the document bytes one at a time
// (skipping the ones it refuses), and whenever the accepted text is complete
// it must parse and satisfy the schema by validate_json -- the matcher's
// promise, checked against an independent validator.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "grammar/json_grammar.h"
#include "grammar/validate.h"

namespace {

void check_one_line(const std::string& message) {
  if (message.empty() || message.find('\n') != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string_view schema_text = input.substr(0, split);
  const std::string_view doc = split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

  boost::system::error_code ec;
  const boost::json::value schema = boost::json::parse(schema_text, ec);
  if (ec) return 0;
  auto grammar = gs::JsonGrammar::from_schema(schema);
  if (!grammar.ok()) {
    check_one_line(grammar.error());
    return 0;
  }

  // Each validation recompiles the schema's patterns: check the first few
  // complete texts and the last one.
  auto check_valid = [&](const std::string& text) {
    boost::system::error_code parse_ec;
    const boost::json::value parsed = boost::json::parse(text, parse_ec);
    if (parse_ec) std::abort();  // the matcher called an unparsable text complete
    if (!gs::validate_json(parsed, schema).ok()) std::abort();  // ... or one the schema refuses
  };
  gs::JsonMatcher matcher(*grammar);
  std::string text, last_complete;
  size_t checks = 0;
  for (char c : doc) {
    if (!matcher.advance(std::string_view(&c, 1))) continue;
    text += c;
    if (!matcher.complete()) {
      if (matcher.finished()) std::abort();
      continue;
    }
    if (++checks <= 4) {
      check_valid(text);
    } else {
      last_complete = text;
    }
  }
  if (!last_complete.empty()) check_valid(last_complete);
  // Whatever the document bytes are, validating them must not crash.
  const boost::json::value other = boost::json::parse(doc, ec);
  if (!ec) {
    const gs::Status st = gs::validate_json(other, schema);
    if (!st.ok()) check_one_line(st.message());
  }
  return 0;
}
