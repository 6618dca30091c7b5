// Shared by the registry tests: small model artifacts built in a store.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "store/digest.h"
#include "store/store.h"

namespace gs::test {

struct Artifact {
  std::string config;
  std::string layer;
  std::string manifest;  // raw JSON
  std::string digest;    // of the manifest
};

// A model-spec manifest around `layer` (any bytes: nothing here parses the GGUF).
inline Artifact make_artifact(const std::string& layer, const std::string& name = "tiny") {
  Artifact a;
  a.layer = layer;
  a.config = boost::json::serialize(boost::json::object{{"config", {{"format", "gguf"}, {"name", name}}},
                                                        {"rootfs", {{"type", "rootfs"}}}});
  a.manifest = boost::json::serialize(
      boost::json::object{{"schemaVersion", 2},
                          {"mediaType", store::media::kOciManifest},
                          {"config",
                           {{"mediaType", store::media::kModelConfig},
                            {"digest", store::sha256_digest(a.config)},
                            {"size", a.config.size()}}},
                          {"layers", boost::json::array{{{"mediaType", store::media::kGguf},
                                                         {"digest", store::sha256_digest(layer)},
                                                         {"size", layer.size()}}}}});
  a.digest = store::sha256_digest(a.manifest);
  return a;
}

// Bytes that differ from one call to the next (a GGUF magic in front, for looks).
inline std::string pseudo_random_bytes(size_t size, uint32_t seed) {
  std::string out = "GGUF";
  out.reserve(size);
  uint32_t x = seed * 2654435761u + 1;
  while (out.size() < size) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out.push_back(static_cast<char>(x & 0xff));
  }
  return out;
}

inline void put_artifact(store::Store& store, const Artifact& a, const std::string& ref_text) {
  ASSERT_TRUE(store.put_blob(a.config).ok());
  ASSERT_TRUE(store.put_blob(a.layer).ok());
  auto manifest = store::parse_manifest(a.manifest);
  ASSERT_TRUE(manifest.ok()) << manifest.error();
  auto ref = store::parse_reference(ref_text);
  ASSERT_TRUE(ref.ok()) << ref.error();
  ASSERT_TRUE(store.tag(*ref, *manifest).ok());
}

}  // namespace gs::test
