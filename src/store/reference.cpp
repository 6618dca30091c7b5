#include "store/reference.h"

#include <algorithm>
#include <vector>

#include "store/digest.h"

namespace gs::store {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;
constexpr std::string_view kHuggingFace = "hf.co";

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

// distribution/reference path component: [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
bool is_path_component(std::string_view s) {
  size_t i = 0;
  while (true) {
    const size_t run = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    if (i == run) return false;  // every separator sits between alphanumerics
    if (i == s.size()) return true;
    const size_t sep = i;
    while (i < s.size() && !is_lower_alnum(s[i])) ++i;
    const std::string_view separator = s.substr(sep, i - sep);
    const bool dashes = std::all_of(separator.begin(), separator.end(), [](char c) { return c == '-'; });
    if (!(separator == "." || separator == "_" || separator == "__" || dashes)) return false;
  }
}

// Hugging Face names keep their case: letters, digits, '.', '_', '-', not at the ends.
bool is_hf_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_tag(std::string_view s) {
  if (s.empty() || s.size() > kMaxTagLength || !is_word(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

// host[:port], host being DNS labels separated by dots (or localhost).
bool is_registry_host(std::string_view s) {
  const size_t colon = s.find(':');
  std::string_view host = s.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view port = s.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  }
  if (host.empty()) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; }))
      return false;
    start = dot + 1;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
  return out;
}

std::string normalize_registry(std::string_view host) {
  std::string h = lowercase(host);
  if (h == "index.docker.io" || h == "registry-1.docker.io") return std::string(kDockerHub);
  if (h == "huggingface.co") return std::string(kHuggingFace);
  return h;
}

// Errors quote what the user typed, cut and without control bytes: one line.
std::string shown(std::string_view text) {
  std::string s(text.substr(0, 80));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > 80) s += "...";
  return s;
}

Status check_repository(const Reference& ref, const std::vector<std::string_view>& path) {
  if (ref.huggingface()) {
    if (path.size() != 2) return Error("a Hugging Face reference is hf.co/ORG/REPO[:QUANT]");
    for (std::string_view c : path) {
      if (!is_hf_component(c)) return Error("'{}' is not a valid Hugging Face name", shown(c));
    }
    return Status::Ok();
  }
  for (std::string_view c : path) {
    if (c == "." || c == "..") return Error("'{}' is not allowed in a repository name", c);
    if (is_path_component(c)) continue;
    if (std::any_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }) &&
        is_path_component(lowercase(c)))
      return Error("repository names must be lowercase ('{}')", shown(c));
    return Error(
        "invalid repository name component '{}' (lowercase letters and digits, separated by '.', '_', '__' "
        "or "
        "'-')",
        shown(c));
  }
  return Status::Ok();
}

Result<Reference> parse(std::string_view text) {
  if (text.empty()) return Error("empty model reference");
  Reference ref;
  std::string_view rest = text;
  if (const size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    GS_RETURN_IF_ERROR(check_digest(ref.digest));
    rest = rest.substr(0, at);
  }
  const size_t last_slash = rest.rfind('/');
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!is_tag(ref.tag))
      return Error(
          "invalid tag '{}' (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')",
          shown(ref.tag));
  }
  std::vector<std::string_view> path = split(rest, '/');
  if (std::any_of(path.begin(), path.end(), [](std::string_view c) { return c.empty(); }))
    return Error("empty repository name or path component");
  const std::string_view first = path.front();
  if (path.size() > 1 && (first.find_first_of(".:") != std::string_view::npos || first == "localhost")) {
    if (first != "." && first != ".." && !is_registry_host(first))
      return Error("invalid registry host '{}'", shown(first));
    if (first != "." && first != "..") {
      ref.registry = normalize_registry(first);
      path.erase(path.begin());
    }
  }
  if (ref.registry.empty()) ref.registry = std::string(kDockerHub);
  for (std::string_view c : path) {
    if (c.find(':') != std::string_view::npos)
      return Error("too many ':' (a reference is [REGISTRY/]NAME[:TAG][@sha256:DIGEST])");
  }
  GS_RETURN_IF_ERROR(check_repository(ref, path));
  if (ref.registry == kDockerHub && path.size() == 1) ref.repository = "ai/";
  for (size_t i = 0; i < path.size(); ++i) {
    if (i > 0) ref.repository += '/';
    ref.repository += path[i];
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  if (ref.name().size() > kMaxNameLength) return Error("name longer than {} characters", kMaxNameLength);
  return ref;
}

}  // namespace

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::canonical() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::display() const {
  if (registry != kDockerHub) return canonical();
  std::string s = repository;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

Result<Reference> parse_reference(std::string_view text) {
  auto ref = parse(text);
  if (!ref.ok()) return ref.status().with_context(fmt::format("invalid reference '{}'", shown(text)));
  return ref;
}

}  // namespace gs::store
