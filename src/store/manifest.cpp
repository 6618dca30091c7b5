// parse_manifest: manifests come from registries and other people's pushes,
// so every field is checked before anything reaches the file system.
#include <boost/json.hpp>

#include "store/digest.h"
#include "store/store.h"

namespace gs::store {
namespace {

namespace json = boost::json;

constexpr uint64_t kMaxBlobSize = uint64_t{1} << 40;  // 1 TiB
constexpr size_t kMaxLayers = 1024;
constexpr size_t kMaxManifestBytes = 4u << 20;

// Layer media types we know what to do with (or can safely keep beside a model).
bool is_known_layer_type(std::string_view type) {
  static constexpr std::string_view kKnown[] = {
      media::kGguf,
      media::kLicense,
      media::kChatTemplate,
      media::kCncfGguf,
      "application/vnd.docker.ai.gguf.v3.lora",
      "application/vnd.docker.ai.gguf.v3.mmproj",
      "application/vnd.docker.ai.safetensors",
      "application/vnd.docker.ai.vllm.config.tar",
  };
  for (std::string_view k : kKnown) {
    if (type == k) return true;
  }
  // ModelPack's documentation, code and config layers.
  return type.rfind("application/vnd.cncf.model.", 0) == 0;
}

std::string shown(std::string_view s) {
  std::string out(s.substr(0, 100));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

Result<std::string> string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return Error("'{}' missing or not a string", key);
  return std::string(v->as_string());
}

Result<Descriptor> parse_descriptor(const json::value& v) {
  if (!v.is_object()) return Error("descriptor is not an object");
  const json::object& o = v.as_object();
  Descriptor d;
  GS_ASSIGN_OR_RETURN(d.media_type, string_field(o, "mediaType"));
  GS_ASSIGN_OR_RETURN(d.digest, string_field(o, "digest"));
  GS_RETURN_IF_ERROR(check_digest(d.digest));
  const json::value* size = o.if_contains("size");
  if (!size || !(size->is_int64() || size->is_uint64())) return Error("'size' missing or not an integer");
  if (size->is_int64() && size->as_int64() < 0) return Error("negative size");
  d.size = size->is_uint64() ? size->as_uint64() : static_cast<uint64_t>(size->as_int64());
  if (d.size > kMaxBlobSize) return Error("size {} of {} is past the 1 TiB limit", d.size, d.digest);
  if (const json::value* ann = o.if_contains("annotations")) {
    if (!ann->is_object()) return Error("'annotations' is not an object");
    for (const auto& [key, value] : ann->as_object()) {
      if (!value.is_string()) return Error("annotation '{}' is not a string", shown(key));
      d.annotations[std::string(key)] = std::string(value.as_string());
    }
  }
  return d;
}

Result<json::object> parse_object(std::string_view raw) {
  if (raw.size() > kMaxManifestBytes) return Error("manifest larger than {} bytes", kMaxManifestBytes);
  boost::system::error_code ec;
  json::value v = json::parse(raw, ec);
  if (ec) return Error("not JSON: {}", ec.message());
  if (!v.is_object()) return Error("not a JSON object");
  return std::move(v.as_object());
}

Status check_media_type(const json::object& o, Manifest& m) {
  if (const json::value* st = o.if_contains("mediaType")) {
    if (!st->is_string()) return Error("'mediaType' is not a string");
    m.media_type = std::string(st->as_string());
  } else {
    m.media_type = std::string(media::kOciManifest);  // optional in OCI manifests
  }
  if (m.media_type == "application/vnd.oci.image.index.v1+json" ||
      m.media_type == "application/vnd.docker.distribution.manifest.list.v2+json")
    return Error("manifest lists (multi-platform indexes) are not models");
  if (m.media_type != media::kOciManifest && m.media_type != media::kDockerManifest)
    return Error("unsupported manifest media type '{}'", shown(m.media_type));
  const json::value* version = o.if_contains("schemaVersion");
  if (!version || !version->is_int64() || version->as_int64() != 2) return Error("schemaVersion is not 2");
  return Status::Ok();
}

Status parse_layers(const json::object& o, Manifest& m) {
  const json::value* layers = o.if_contains("layers");
  if (!layers || !layers->is_array()) return Error("'layers' missing or not an array");
  if (layers->as_array().size() > kMaxLayers) return Error("more than {} layers", kMaxLayers);
  for (const json::value& l : layers->as_array()) {
    auto d = parse_descriptor(l);
    if (!d.ok()) return d.status().with_context(fmt::format("layer {}", m.layers.size()));
    if (!is_known_layer_type(d->media_type))
      return Error("layer {}: unknown media type '{}'", m.layers.size(), shown(d->media_type));
    m.layers.push_back(std::move(*d));
  }
  if (m.gguf_layers().empty()) return Error("no GGUF layer: not a model genstack can run");
  return Status::Ok();
}

Result<Manifest> parse_checked(std::string raw) {
  GS_ASSIGN_OR_RETURN(json::object o, parse_object(raw));
  Manifest m;
  GS_RETURN_IF_ERROR(check_media_type(o, m));
  const json::value* config = o.if_contains("config");
  if (!config) return Error("'config' missing");
  auto c = parse_descriptor(*config);
  if (!c.ok()) return c.status().with_context("config");
  m.config = std::move(*c);
  if (m.config.media_type != media::kModelConfig && m.config.media_type != media::kCncfConfig)
    return Error("config media type '{}' is not a model config (is this a container image?)",
                 shown(m.config.media_type));
  GS_RETURN_IF_ERROR(parse_layers(o, m));
  m.digest = sha256_digest(raw);
  m.raw = std::move(raw);
  return m;
}

}  // namespace

std::vector<const Descriptor*> Manifest::gguf_layers() const {
  std::vector<const Descriptor*> out;
  for (const Descriptor& d : layers) {
    if (d.media_type == media::kGguf || d.media_type == media::kCncfGguf) out.push_back(&d);
  }
  return out;
}

Result<Manifest> parse_manifest(std::string raw) {
  try {
    auto m = parse_checked(std::move(raw));
    if (!m.ok()) return m.status().with_context("invalid manifest");
    return m;
  } catch (const std::exception& e) {
    return Error("invalid manifest: {}", e.what());
  }
}

}  // namespace gs::store
