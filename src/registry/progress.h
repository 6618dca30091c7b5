// Progress of pulls and pushes for people: a bar redrawn in place when
// stderr is a terminal, plain lines (at most one a second per blob) when it
// is not, and one line per blob when it is done.
#pragma once

#include <cstdio>

#include "registry/registry.h"

namespace gs::registry {

// A thread-safe ProgressFn writing to `out`; `terminal` picks the bar.
ProgressFn progress_printer(std::FILE* out, bool terminal);

// "1.5 MB", "120.3 MB/s" style figures (decimal units, as registries show sizes).
std::string human_bytes(double bytes);

}  // namespace gs::registry
