// `genstack scan`: is this model file (or stored model) what it claims to be?
// Structural GGUF validation, digest verification of every blob, and
// warnings for anything unusual; licence and provenance for the reader.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace gs::store {

struct ScanReport {
  std::vector<std::string> info;      // provenance and licence lines, for stdout
  std::vector<std::string> warnings;  // unusual but not fatal, one line each
};

// An error: the first problem that makes the model unusable (bad structure,
// a blob that does not match its digest).
Result<ScanReport> scan_gguf_file(const std::filesystem::path& path);
Result<ScanReport> scan_stored_model(const Store& store, const Reference& ref);

// Warnings for a chat template: does not parse, or fails on a sample
// conversation (an undefined function called, say).
std::vector<std::string> check_chat_template(std::string_view source);

}  // namespace gs::store
