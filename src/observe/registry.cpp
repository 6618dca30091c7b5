#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "observe/registry_impl.h"
#include "observe/text_format.h"

namespace gs::obs {

namespace {

// A misuse of the registry is a bug in the calling code: debug builds stop at
// it, naming the culprit; release builds repair it and carry on, because a
// wrong metric must not take a server down.
void misuse([[maybe_unused]] std::string_view what, [[maybe_unused]] std::string_view name) {
#ifndef NDEBUG
  std::fprintf(stderr, "gs::obs::Registry: %.*s: '%.*s'\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(name.size()), name.data());
  std::abort();
#endif
}

std::string checked_name(std::string_view name, Kind kind) {
  std::string out(name);
  if (!text::is_metric_name(out)) {
    misuse("invalid metric name", name);
    out = text::sanitize_metric_name(out);
  }
  if (kind == Kind::kCounter && !out.ends_with("_total")) {
    misuse("counter names must end in _total", name);
    out += "_total";
  }
  return out;
}

Labels checked_labels(const Labels& labels, Kind kind) {
  Labels out;
  out.reserve(labels.size());
  for (const auto& [given, value] : labels) {
    std::string name = given;
    if (!text::is_label_name(name)) {
      misuse("invalid label name", given);
      name = text::sanitize_label_name(name);
    }
    if (kind == Kind::kHistogram && name == "le") {
      misuse("label name 'le' is reserved for histogram buckets", given);
      name = "_le";
    }
    if (std::any_of(out.begin(), out.end(), [&](const auto& l) { return l.first == name; })) {
      misuse("duplicate label name", given);
      continue;
    }
    out.emplace_back(std::move(name), text::to_valid_utf8(value));
  }
  return out;
}

std::vector<double> checked_bounds(std::span<const double> given) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> b(given.begin(), given.end());
  if (!b.empty() && b.back() == kInf) b.pop_back();  // the +Inf bucket is always there
  bool ok = true;
  for (size_t i = 0; i < b.size(); ++i) {
    if (std::isnan(b[i]) || b[i] == kInf || (i > 0 && !(b[i - 1] < b[i]))) ok = false;
  }
  if (!ok) {
    misuse("histogram bounds must increase strictly", "");
    std::erase_if(b, [](double x) { return std::isnan(x) || x == kInf; });
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
  }
  return b;
}

// Identifies a label set whatever the order it was given in. Names are ASCII
// and values valid UTF-8, so bytes 0xFE/0xFF separate them unambiguously.
std::string series_key(const Labels& labels) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  for (const auto& l : labels) sorted.push_back(&l);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string key;
  for (const auto* l : sorted) {
    key += l->first;
    key += '\xFF';
    key += l->second;
    key += '\xFE';
  }
  return key;
}

std::string render_labels(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    text::append_label_value(out, value);
    out += '"';
  }
  return out;
}

Family new_family(Kind kind, std::string_view help, std::vector<double> bounds) {
  Family f;
  f.kind = kind;
  f.help = text::to_valid_utf8(help);
  f.bounds = std::move(bounds);
  for (double b : f.bounds) {
    f.le.emplace_back();
    text::append_number(f.le.back(), b);
  }
  return f;
}

// Whether `name` would render series of an existing family (or the reverse):
// histogram `x` writes x_bucket, x_sum and x_count.
bool collides(const std::map<std::string, Family, std::less<>>& families, const std::string& name,
              Kind kind) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (kind == Kind::kHistogram && families.contains(name + std::string(suffix))) return true;
    if (name.ends_with(suffix)) {
      auto it = families.find(std::string_view(name).substr(0, name.size() - suffix.size()));
      if (it != families.end() && it->second.kind == Kind::kHistogram) return true;
    }
  }
  return false;
}

}  // namespace

Series& Registry::Impl::find_or_add(Kind kind, std::string_view given_name, std::string_view help,
                                    std::span<const double> given_bounds, const Labels& given_labels) {
  const std::string name = checked_name(given_name, kind);
  const Labels labels = checked_labels(given_labels, kind);
  const std::string key = series_key(labels);
  std::vector<double> bounds;
  if (kind == Kind::kHistogram) bounds = checked_bounds(given_bounds);

  std::lock_guard lock(mu);
  auto it = families.find(name);
  Family* family = nullptr;
  if (it != families.end() && it->second.kind == kind) {
    family = &it->second;
    if (family->bounds != bounds) misuse("histogram registered again with other bounds", name);
  } else if (it == families.end() && !collides(families, name, kind)) {
    family = &families.emplace(name, new_family(kind, help, std::move(bounds))).first->second;
  } else {
    misuse("metric name used by another metric", name);
    const std::string detached_key = std::to_string(static_cast<int>(kind)) + name;
    auto d = detached.find(detached_key);
    if (d == detached.end())
      d = detached.emplace(detached_key, new_family(kind, help, std::move(bounds))).first;
    family = &d->second;
  }

  auto [s, added] = family->series.try_emplace(key);
  if (added) {
    Series& series = s->second;
    series.labels = render_labels(labels);
    switch (kind) {
      case Kind::kCounter:
        series.counter = std::make_unique<Counter>();
        break;
      case Kind::kGauge:
        series.gauge = std::make_unique<Gauge>();
        break;
      case Kind::kHistogram:
        series.histogram = std::make_unique<Histogram>(family->bounds);
        break;
    }
  }
  return s->second;
}

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  return *impl_->find_or_add(Kind::kCounter, name, help, {}, labels).counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  return *impl_->find_or_add(Kind::kGauge, name, help, {}, labels).gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, std::span<const double> buckets,
                               const Labels& labels) {
  return *impl_->find_or_add(Kind::kHistogram, name, help, buckets, labels).histogram;
}

}  // namespace gs::obs
