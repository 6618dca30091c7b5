// Resumable downloads into a partial file (internal): an existing partial is
// continued with `Range: bytes=N-`; a server answering 200 instead of 206
// restarts it from zero. Shared by OCI blob pulls and Hugging Face files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "registry/session.h"

namespace gs::registry {

struct DownloadSpec {
  std::string url;
  std::vector<std::string> headers;
  std::filesystem::path partial;
  std::optional<uint64_t> expected_size;  // more bytes than this is an error
  bool hash = false;                      // compute the sha256 while writing
  std::function<void(uint64_t completed, uint64_t total)> on_progress;
};

struct Downloaded {
  uint64_t size = 0;
  std::string digest;  // when spec.hash
};

Result<Downloaded> download_resumable(Session& session, const DownloadSpec& spec);

// Pure: the Range header for a partial of `have` bytes (empty: start over).
std::string range_header(uint64_t have);

}  // namespace gs::registry
