#include "registry/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>
#include <boost/json.hpp>

#include "core/ascii.h"

namespace gs::registry {
namespace {

void skip_spaces(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/:").find(c) != std::string_view::npos;
}

// value = token / quoted-string (backslash escapes one character).
Result<std::string> parse_param_value(std::string_view s, size_t& i) {
  std::string value;
  if (i < s.size() && s[i] == '"') {
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      value += s[i];
    }
    if (i >= s.size()) return Error("unterminated quoted string in WWW-Authenticate");
    ++i;
    return value;
  }
  while (i < s.size() && s[i] != ',' && s[i] != ' ' && s[i] != '\t') value += s[i++];
  return value;
}

Result<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot read {}", path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::filesystem::path auth_file(const std::filesystem::path& home) { return home / "auth.json"; }

std::filesystem::path docker_config_file() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir)
    return std::filesystem::path(dir) / "config.json";
  const char* user_home = std::getenv("HOME");
  return std::filesystem::path(user_home ? user_home : "") / ".docker" / "config.json";
}

// `auths` of a config file as an object; an unreadable or malformed file counts as empty.
boost::json::object read_auths(const std::filesystem::path& path) {
  auto text = read_text(path);
  if (!text.ok()) return {};
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(*text, ec);
  if (ec || !doc.is_object()) return {};
  const auto* auths = doc.get_object().if_contains("auths");
  return auths && auths->is_object() ? auths->get_object() : boost::json::object{};
}

std::optional<Credentials> credentials_in(const boost::json::object& auths, std::string_view host) {
  for (const auto& [key, entry] : auths) {
    if (!same_registry_host(key, host) || !entry.is_object()) continue;
    const auto* auth = entry.get_object().if_contains("auth");
    if (!auth || !auth->is_string()) continue;
    auto decoded = base64_decode(auth->get_string());
    if (!decoded.ok()) continue;
    const size_t colon = decoded->find(':');
    if (colon == std::string::npos) continue;
    return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
  }
  return std::nullopt;
}

// Temp file (0600), fsync, rename, fsync of the directory: never a torn auth.json.
Status write_private_file(const std::filesystem::path& path, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error("cannot write {}: {}", tmp, std::strerror(errno));
  const bool written = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                       ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error("cannot write {}: {}", path.string(), std::strerror(written ? errno : saved_errno));
  }
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

Status write_auths(const std::filesystem::path& home, boost::json::object auths) {
  return write_private_file(auth_file(home),
                            boost::json::serialize(boost::json::object{{"auths", auths}}) + "\n");
}

}  // namespace

Result<Challenge> parse_challenge(std::string_view header) {
  size_t i = 0;
  skip_spaces(header, i);
  const size_t start = i;
  while (i < header.size() && is_token_char(header[i])) ++i;
  if (i == start) return Error("malformed WWW-Authenticate header: no scheme");
  Challenge challenge{ascii_lower(header.substr(start, i - start)), {}};
  while (i < header.size()) {
    skip_spaces(header, i);
    if (i < header.size() && header[i] == ',') {
      ++i;
      continue;
    }
    const size_t key_start = i;
    while (i < header.size() && is_token_char(header[i]) && header[i] != '=') ++i;
    if (i == key_start) return Error("malformed WWW-Authenticate header near position {}", i);
    const std::string key = ascii_lower(header.substr(key_start, i - key_start));
    skip_spaces(header, i);
    if (i >= header.size() || header[i] != '=')
      return Error("malformed WWW-Authenticate parameter '{}'", key);
    ++i;
    skip_spaces(header, i);
    GS_ASSIGN_OR_RETURN(std::string value, parse_param_value(header, i));
    challenge.params[key] = std::move(value);
  }
  return challenge;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return Error("invalid base64 (length {})", text.size());
  std::string out(3 * text.size() / 4, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return Error("invalid base64");
  // EVP_DecodeBlock counts padding as zero bytes.
  size_t size = static_cast<size_t>(n);
  for (size_t k = text.size(); k > 0 && text[k - 1] == '='; --k) --size;
  out.resize(size);
  return out;
}

bool same_registry_host(std::string_view stored_key, std::string_view host) {
  std::string_view key = stored_key;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.starts_with(scheme)) key.remove_prefix(scheme.size());
  }
  key = key.substr(0, key.find('/'));
  const auto docker_hub = [](std::string_view h) {
    return h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io";
  };
  if (docker_hub(host)) return docker_hub(key);
  return key == host;
}

std::optional<Credentials> find_credentials(const std::filesystem::path& home, std::string_view host) {
  if (auto own = credentials_in(read_auths(auth_file(home)), host)) return own;
  return credentials_in(read_auths(docker_config_file()), host);
}

Status save_credentials(const std::filesystem::path& home, std::string_view host, const Credentials& creds) {
  boost::json::object auths = read_auths(auth_file(home));
  auths[host] = boost::json::object{{"auth", base64_encode(creds.username + ":" + creds.password)}};
  return write_auths(home, std::move(auths));
}

Result<bool> remove_credentials(const std::filesystem::path& home, std::string_view host) {
  boost::json::object auths = read_auths(auth_file(home));
  bool removed = false;
  for (auto it = auths.begin(); it != auths.end();) {
    if (same_registry_host(it->key(), host)) {
      it = auths.erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  if (!removed) return false;
  GS_RETURN_IF_ERROR(write_auths(home, std::move(auths)));
  return true;
}

}  // namespace gs::registry
