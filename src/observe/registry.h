// A thread-safe set of metrics and their Prometheus text exposition
// (format 0.0.4, what a /metrics endpoint serves).
//
//   obs::Registry registry;
//   obs::Counter& tokens = registry.counter("genstack_generated_tokens_total",
//                                           "Tokens generated.", {{"model", name}});
//   tokens.inc();  // per token: no lookup, no lock
//   std::string body = registry.render();
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "observe/metrics.h"

namespace gs::obs {

// The HTTP Content-Type of render()'s output.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each call returns the series `name` + `labels` of a family, creating the
  // family and the series on first use; the same name and label set (in any
  // order) returns the same object, at an address that stays valid for the
  // registry's lifetime. Registration takes a mutex: look up once, keep the
  // reference.
  //
  // Programming errors are asserted in debug builds and repaired in release
  // builds, so that a metric can never break the exposition:
  // - names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label names
  //   [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"; other characters become
  //   '_', a leading "__" becomes "_";
  // - counter names must end in "_total" (appended when missing);
  // - a label name given twice keeps its first value; a histogram label
  //   named "le" (reserved for buckets) becomes "_le";
  // - a name already used by another kind of metric, or colliding with a
  //   histogram's _bucket/_sum/_count series, returns a detached metric that
  //   is never rendered;
  // - histogram bounds must be strictly increasing and not NaN (sorted and
  //   deduplicated, NaN dropped); a trailing +Inf is implicit and dropped.
  //   A family's bounds come from its first registration; later ones must
  //   equal them.
  // Label values are data, not code: any bytes are accepted; invalid UTF-8
  // (which Prometheus rejects) is replaced by U+FFFD. The help text of a
  // family is the one given first.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::span<const double> buckets,
                       const Labels& labels = {});

  // The text exposition: families sorted by name, each with one # HELP and
  // one # TYPE line, then its series sorted by label set (labels rendered in
  // the order first given). Histograms: cumulative _bucket series with "le"
  // last, +Inf included, then _sum and _count. Takes the registration mutex
  // but no metric's update path waits for it.
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gs::obs
