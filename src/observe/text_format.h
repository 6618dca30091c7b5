// Pieces of the Prometheus text format 0.0.4: name rules, escaping and
// number syntax. Internal to the observe module (and its tests).
#pragma once

#include <string>
#include <string_view>

namespace gs::obs::text {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__" (reserved for Prometheus).
bool is_label_name(std::string_view name);
// The nearest valid name: other characters become '_', a leading digit gets
// a '_' prefix, an empty name becomes "_"; label names lose a leading "__".
std::string sanitize_metric_name(std::string_view name);
std::string sanitize_label_name(std::string_view name);

// `s` with every invalid UTF-8 sequence replaced by U+FFFD; Prometheus
// rejects a whole scrape over one invalid label value.
std::string to_valid_utf8(std::string_view s);

// Label values escape backslash, double quote and line feed; help text only
// backslash and line feed.
void append_label_value(std::string& out, std::string_view value);
void append_help(std::string& out, std::string_view help);
// Shortest text that reads back as the same double; +Inf, -Inf, NaN.
void append_number(std::string& out, double v);

}  // namespace gs::obs::text
