// The registry's state, shared by registration (registry.cpp) and the text
// exposition (render.cpp).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "observe/registry.h"

namespace gs::obs {

enum class Kind { kCounter, kGauge, kHistogram };

struct Series {
  std::string labels;  // rendered and escaped: a="x",b="y" (no braces)
  // Exactly one is set, by the family's kind.
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
};

struct Family {
  Kind kind = Kind::kCounter;
  std::string help;                      // valid UTF-8, not escaped
  std::vector<double> bounds;            // histograms; never changes (the series' spans point into it)
  std::vector<std::string> le;           // bounds as rendered in le="..."
  std::map<std::string, Series> series;  // by label set: sorted names, 0xFF/0xFE separated
};

struct Registry::Impl {
  // Looks up or creates a series (see Registry::counter for the rules).
  Series& find_or_add(Kind kind, std::string_view name, std::string_view help, std::span<const double> bounds,
                      const Labels& labels);

  mutable std::mutex mu;                                // guards the maps, not the metrics' values
  std::map<std::string, Family, std::less<>> families;  // by name: render order
  // Metrics handed out for conflicting registrations; never rendered.
  std::map<std::string, Family, std::less<>> detached;
};

}  // namespace gs::obs
