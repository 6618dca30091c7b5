// Model references as users type them, parsed by the rules of Docker/OCI
// image references (distribution/reference), plus Hugging Face repositories.
//   ai/smollm2                  -> docker.io/ai/smollm2:latest
//   smollm2                     -> docker.io/ai/smollm2:latest   (models live under ai/)
//   localhost:5000/team/m:v1    -> registry localhost:5000
//   ai/smollm2@sha256:<64 hex>  -> by digest
//   hf.co/ORG/REPO[:QUANT]      -> Hugging Face (huggingface.co/... too)
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gs::store {

constexpr std::string_view kDockerHub = "docker.io";                // as shown and stored
constexpr std::string_view kDockerHubApi = "registry-1.docker.io";  // where it is reached

struct Reference {
  std::string registry;    // "docker.io", "localhost:5000", "hf.co"
  std::string repository;  // "ai/smollm2": lowercase path components
  std::string tag;         // "latest" unless a digest alone was given
  std::string digest;      // "sha256:<hex>" or empty
  bool huggingface() const { return registry == "hf.co"; }
  // "docker.io/ai/smollm2:latest", "...@sha256:..." (tag and digest both when both given)
  std::string canonical() const;
  // What users see: "ai/smollm2:latest" for Docker Hub, else canonical().
  std::string display() const;
  // "docker.io/ai/smollm2" (no tag or digest)
  std::string name() const;
};

// Clear errors for "", "../x", "a:b:c", uppercase repositories, names over
// 255 characters, malformed tags and digests.
Result<Reference> parse_reference(std::string_view text);

}  // namespace gs::store
