// Registry authentication: the WWW-Authenticate challenge (RFC 7235 as the
// distribution token spec uses it) and stored credentials, from genstack's
// own $GENSTACK_HOME/auth.json (`genstack login`) or Docker's config.json.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gs::registry {

struct Challenge {
  std::string scheme;                         // "bearer" or "basic", lowercase
  std::map<std::string, std::string> params;  // realm, service, scope (keys lowercase)
  std::string param(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
  }
};

// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:ai/x:pull"`
Result<Challenge> parse_challenge(std::string_view header);

struct Credentials {
  std::string username;
  std::string password;
};

std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

// The names a registry host goes by in credential files: Docker Hub is stored
// by `docker login` as "https://index.docker.io/v1/".
bool same_registry_host(std::string_view stored_key, std::string_view host);

// $GENSTACK_HOME/auth.json first, then $DOCKER_CONFIG/config.json (or
// ~/.docker/config.json) `auths.<host>.auth` (base64 "user:password").
std::optional<Credentials> find_credentials(const std::filesystem::path& home, std::string_view host);
// Writes auth.json (mode 0600, atomically).
Status save_credentials(const std::filesystem::path& home, std::string_view host, const Credentials& creds);
// Ok (and false) when nothing was stored for the host.
Result<bool> remove_credentials(const std::filesystem::path& home, std::string_view host);

}  // namespace gs::registry
