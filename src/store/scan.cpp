#include "store/scan.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "gguf/gguf.h"
#include "store/digest.h"
#include "store/package.h"
#include "template/chat_template.h"

namespace gs::store {
namespace fs = std::filesystem;

namespace {

constexpr size_t kLicenseLines = 5;

std::string printable(std::string_view s, size_t max = 120) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? fmt::format("\\x{:02x}", u) : std::string(1, c);
  }
  if (s.size() > max) out += "...";
  return out;
}

// Control bytes other than tab and newlines have no business in names,
// licences or URLs; they can rewrite a terminal that prints them.
std::optional<unsigned char> control_char(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\r' && c != '\t') || u == 0x7f) return u;
  }
  return std::nullopt;
}

void check_metadata_strings(const gguf::File& f, ScanReport& r) {
  for (const auto& [key, value] : f.metadata()) {
    if (key.rfind("tokenizer.ggml.", 0) == 0) continue;  // vocabularies hold raw bytes by design
    std::vector<std::string_view> strings;
    if (value.type == gguf::ValueType::STRING) strings.push_back(value.string);
    for (const std::string& s : value.strings) strings.push_back(s);
    for (std::string_view s : strings) {
      if (auto c = control_char(s)) {
        r.warnings.push_back(
            fmt::format("metadata {} contains control character 0x{:02x}", printable(key), *c));
        break;
      }
    }
  }
}

// Bytes the tensor table does not account for: gaps between tensors and
// trailing data are where something could hide.
void check_tensor_layout(const gguf::File& f, ScanReport& r) {
  std::vector<const gguf::TensorInfo*> tensors;
  for (const auto& t : f.tensors()) tensors.push_back(&t);
  std::sort(tensors.begin(), tensors.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  const uint64_t align = f.alignment();
  uint64_t end = 0;
  uint64_t gaps = 0;
  for (const gguf::TensorInfo* t : tensors) {
    if (t->offset > end) gaps += t->offset - end;
    end = std::max(end, (t->offset + t->size_bytes + align - 1) / align * align);
  }
  if (gaps > 0) r.warnings.push_back(fmt::format("{} bytes between tensors belong to no tensor", gaps));
  const uint64_t used = f.data_offset() + end;
  if (!tensors.empty() && f.file_size() > used)
    r.warnings.push_back(fmt::format("{} bytes after the last tensor's data", f.file_size() - used));
}

void add_provenance(const gguf::File& f, ScanReport& r) {
  for (const auto& [key, value] : f.metadata()) {
    if (key.rfind("general.", 0) != 0) continue;
    if (value.type == gguf::ValueType::STRING) {
      r.info.push_back(fmt::format("{}: {}", key, printable(value.string)));
    } else if (value.type != gguf::ValueType::ARRAY) {
      const bool is_float = value.type == gguf::ValueType::FLOAT32 || value.type == gguf::ValueType::FLOAT64;
      r.info.push_back(is_float ? fmt::format("{}: {}", key, value.number)
                                : fmt::format("{}: {}", key, value.integer));
    }
  }
  r.info.push_back(
      fmt::format("tensors: {}, GGUF v{}, {} bytes", f.tensors().size(), f.version(), f.file_size()));
}

void add_license(std::string_view label, std::string_view text, ScanReport& r) {
  r.info.push_back(fmt::format("{}:", label));
  size_t start = 0;
  for (size_t line = 0; line < kLicenseLines && start < text.size(); ++line) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    r.info.push_back("  " + printable(text.substr(start, nl - start)));
    start = nl + 1;
  }
}

Status verify_blob(const Store& store, const Descriptor& d) {
  const fs::path path = store.blob_path(d.digest);
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return Error("blob {} is missing from the store", d.digest);
  if (size != d.size) return Error("blob {} has {} bytes, the manifest says {}", d.digest, size, d.size);
  GS_ASSIGN_OR_RETURN(std::string actual, sha256_file(path.string()));
  if (actual != d.digest) return Error("blob {} is corrupt: its content hashes to {}", d.digest, actual);
  return Status::Ok();
}

}  // namespace

std::vector<std::string> check_chat_template(std::string_view source) {
  auto parsed = tmpl::Template::parse(source);
  if (!parsed.ok()) return {"chat template does not parse: " + parsed.error()};
  tmpl::ChatInputs inputs;
  inputs.messages = boost::json::array{
      boost::json::object{{"role", "system"}, {"content", "You are helpful."}},
      boost::json::object{{"role", "user"}, {"content", "Hello"}},
      boost::json::object{{"role", "assistant"}, {"content", "Hi!"}},
      boost::json::object{{"role", "user"}, {"content", "How are you?"}},
  };
  inputs.bos_token = "<s>";
  inputs.eos_token = "</s>";
  auto rendered = tmpl::render_chat_template(source, inputs);
  if (!rendered.ok()) return {"chat template fails on a sample conversation: " + rendered.error()};
  return {};
}

Result<ScanReport> scan_gguf_file(const fs::path& path) {
  auto file = gguf::File::open(path.string());
  if (!file.ok()) return file.status().with_context(path.string());
  const gguf::File& f = **file;
  ScanReport r;
  add_provenance(f, r);
  if (auto license = f.get_string("general.license"); license.ok())
    add_license("licence (GGUF metadata)", *license, r);
  check_tensor_layout(f, r);
  check_metadata_strings(f, r);
  if (auto tmpl_source = f.get_string("tokenizer.chat_template"); tmpl_source.ok()) {
    for (std::string& w : check_chat_template(*tmpl_source)) r.warnings.push_back(std::move(w));
  }
  return r;
}

Result<ScanReport> scan_stored_model(const Store& store, const Reference& ref) {
  GS_ASSIGN_OR_RETURN(ModelEntry entry, store.get(ref));
  const Manifest& m = entry.manifest;
  ScanReport r;
  r.info.push_back("reference: " + ref.display());
  r.info.push_back("manifest: " + m.digest);
  r.info.push_back("tags: " + fmt::format("{}", fmt::join(entry.tags, ", ")));
  const ConfigSummary summary = summarize_config(entry.config_json);
  if (!summary.created.empty()) r.info.push_back("created: " + summary.created);
  GS_RETURN_IF_ERROR(verify_blob(store, m.config));
  r.info.push_back("config: " + m.config.digest);
  for (const Descriptor& d : m.layers) {
    GS_RETURN_IF_ERROR(verify_blob(store, d));
    r.info.push_back(fmt::format("layer {} {} ({} bytes)", d.media_type, d.digest, d.size));
  }
  for (const Descriptor& d : m.layers) {
    if (d.media_type == media::kGguf || d.media_type == media::kCncfGguf) {
      GS_ASSIGN_OR_RETURN(ScanReport g, scan_gguf_file(store.blob_path(d.digest)));
      r.info.insert(r.info.end(), g.info.begin(), g.info.end());
      r.warnings.insert(r.warnings.end(), g.warnings.begin(), g.warnings.end());
    } else if (d.media_type == media::kLicense || d.media_type == media::kChatTemplate) {
      GS_ASSIGN_OR_RETURN(std::string text, store.read_blob(d.digest));
      if (d.media_type == media::kLicense) {
        add_license("licence", text, r);
      } else {
        for (std::string& w : check_chat_template(text)) r.warnings.push_back(std::move(w));
      }
    }
  }
  return r;
}

}  // namespace gs::store
