#include "http/url.h"

namespace gs::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const bool room = i + 2 < text.size();
      const int hi = room ? hex_value(text[i + 1]) : -1;
      const int lo = room ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Status::Error("malformed percent-encoding in the request target");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

Result<Target> parse_target(std::string_view target) {
  if (const size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  Target out;
  if (target == "*") {
    out.path = "*";
    return out;
  }
  if (starts_with_nocase(target, "http://") || starts_with_nocase(target, "https://")) {
    // Absolute form (sent to proxies, allowed to origin servers): drop scheme and authority.
    const size_t authority = target.find("//") + 2;
    const size_t end = target.find_first_of("/?", authority);
    if (end == authority) return Status::Error("request target has an empty host");
    target = end == std::string_view::npos ? std::string_view() : target.substr(end);
    if (target.empty() || target.front() == '?') out.path = "/";
  } else if (target.empty() || target.front() != '/') {
    return Status::Error("request target must start with '/'");
  }

  const size_t question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  if (!raw_path.empty()) {
    GS_ASSIGN_OR_RETURN(out.path, percent_decode(raw_path, false));
    // A NUL would let a route's file or model name end early where C APIs see it.
    if (out.path.find('\0') != std::string::npos) return Status::Error("request path contains a NUL byte");
  }
  if (question == std::string_view::npos) return out;

  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view piece = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    GS_ASSIGN_OR_RETURN(std::string name, percent_decode(piece.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      GS_ASSIGN_OR_RETURN(value, percent_decode(piece.substr(eq + 1), true));
    }
    out.query.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

}  // namespace gs::http
