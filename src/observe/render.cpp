// Registry::render: the text exposition format 0.0.4.
#include "observe/registry_impl.h"
#include "observe/text_format.h"

namespace gs::obs {

namespace {

std::string_view type_name(Kind kind) {
  switch (kind) {
    case Kind::kCounter:
      return "counter";
    case Kind::kGauge:
      return "gauge";
    case Kind::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// One sample line: name{labels,le="..."} value
void append_sample(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
                   std::string_view le, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !le.empty()) {
    out += '{';
    out += labels;
    if (!le.empty()) {
      if (!labels.empty()) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  text::append_number(out, value);
  out += '\n';
}

void append_histogram(std::string& out, const std::string& name, const Family& family, const Series& series) {
  const Histogram::Snapshot s = series.histogram->snapshot();
  for (size_t i = 0; i < family.le.size(); ++i) {
    append_sample(out, name, "_bucket", series.labels, family.le[i], static_cast<double>(s.cumulative[i]));
  }
  append_sample(out, name, "_bucket", series.labels, "+Inf", static_cast<double>(s.count));
  append_sample(out, name, "_sum", series.labels, "", s.sum);
  append_sample(out, name, "_count", series.labels, "", static_cast<double>(s.count));
}

}  // namespace

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(impl_->mu);
  for (const auto& [name, family] : impl_->families) {
    out += "# HELP ";
    out += name;
    if (!family.help.empty()) out += ' ';
    text::append_help(out, family.help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type_name(family.kind);
    out += '\n';
    for (const auto& [key, series] : family.series) {
      switch (family.kind) {
        case Kind::kCounter:
          append_sample(out, name, "", series.labels, "", series.counter->value());
          break;
        case Kind::kGauge:
          append_sample(out, name, "", series.labels, "", series.gauge->value());
          break;
        case Kind::kHistogram:
          append_histogram(out, name, family, series);
          break;
      }
    }
  }
  return out;
}

}  // namespace gs::obs
