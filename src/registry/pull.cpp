// Pull: manifest (an index resolves to its first manifest), blobs in parallel
// into the store's partial files, verification, tag.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "registry/download.h"
#include "registry/huggingface.h"
#include "registry/registry.h"
#include "registry/session.h"
#include "store/digest.h"
#include "store/scan.h"

namespace gs::registry {
namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

void report(const TransferOptions& options, Progress event) {
  if (options.progress) options.progress(event);
}

struct RawManifest {
  std::string bytes;
  std::string media_type;
};

Result<RawManifest> fetch_manifest(Session& session, const std::string& repository,
                                   const std::string& tag_or_digest) {
  const std::string url = manifest_url(session.endpoint(), repository, tag_or_digest);
  std::string body;
  bool too_big = false;
  GS_ASSIGN_OR_RETURN(HttpResponse response, session.send([&] {
    body.clear();
    HttpRequest request = make_request("GET", url);
    request.headers = {fmt::format("Accept: {}, {}, {}, {}", store::media::kOciManifest,
                                   store::media::kDockerManifest, kOciIndex, kDockerManifestList)};
    request.on_body = [&](long, std::string_view bytes) {
      too_big = body.size() + bytes.size() > kMaxManifestBytes;
      if (!too_big) body.append(bytes);
      return !too_big;
    };
    return request;
  }));
  if (too_big) return Error("the manifest of {} is larger than {} bytes", repository, kMaxManifestBytes);
  if (response.status == 404) {
    return Error("{}:{} not found on registry {}", repository, tag_or_digest, session.endpoint().host);
  }
  if (response.status != 200) return session.status_error("fetching the manifest of " + repository, response);
  const std::string computed = store::sha256_digest(body);
  if (tag_or_digest.starts_with("sha256:") && computed != tag_or_digest) {
    return Error("manifest digest mismatch: asked for {}, got content hashing to {}", tag_or_digest,
                 computed);
  }
  const std::string claimed = response.header("docker-content-digest");
  if (!claimed.empty() && claimed != computed) {
    return Error("manifest digest mismatch: registry says {}, content hashes to {}", claimed, computed);
  }
  std::string media_type = response.header("content-type");
  media_type = media_type.substr(0, media_type.find(';'));
  return RawManifest{std::move(body), std::move(media_type)};
}

// For an index (multi-platform list), the digest of its first manifest.
Result<std::string> first_manifest_of_index(const std::string& raw) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(raw, ec);
  if (ec || !doc.is_object()) return Error("the image index is not a JSON object");
  const auto* manifests = doc.get_object().if_contains("manifests");
  if (!manifests || !manifests->is_array() || manifests->get_array().empty()) {
    return Error("the image index lists no manifests");
  }
  const auto& first = manifests->get_array()[0];
  const auto* digest = first.is_object() ? first.get_object().if_contains("digest") : nullptr;
  if (!digest || !digest->is_string()) return Error("the image index's first entry has no digest");
  std::string d(digest->get_string());
  GS_RETURN_IF_ERROR(store::check_digest(d));
  return d;
}

bool is_index(const RawManifest& m) {
  if (m.media_type == kOciIndex || m.media_type == kDockerManifestList) return true;
  // Some registries send no useful Content-Type: the document's own mediaType decides.
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(m.bytes, ec);
  if (ec || !doc.is_object()) return false;
  const auto* mt = doc.get_object().if_contains("mediaType");
  return mt && mt->is_string() && (mt->get_string() == kOciIndex || mt->get_string() == kDockerManifestList);
}

Status pull_blob(Session& session, store::Store& store, const std::string& repository,
                 const store::Descriptor& blob, const TransferOptions& options) {
  const std::string status = "pulling " + blob.digest;
  auto done = [&](bool skipped) {
    report(options, {status, blob.digest, blob.size, blob.size, true, skipped});
    return Status::Ok();
  };
  if (store.has_blob(blob.digest)) return done(true);
  // Another process pulling the same blob holds this lock; once it is ours the blob may be there.
  GS_ASSIGN_OR_RETURN(store::FileLock lock, store.lock_blob(blob.digest));
  if (store.has_blob(blob.digest)) return done(true);
  DownloadSpec spec;
  spec.url = blob_url(session.endpoint(), repository, blob.digest);
  spec.partial = store.partial_path(blob.digest);
  spec.expected_size = blob.size;
  spec.on_progress = [&](uint64_t completed, uint64_t total) {
    report(options, {status, blob.digest, total, completed, false, false});
  };
  GS_RETURN_IF_ERROR(download_resumable(session, spec).status());
  GS_RETURN_IF_ERROR(store.commit_partial(blob.digest, blob.size).with_context("verifying " + blob.digest));
  return done(false);
}

// Blobs on a few threads; the first error stops the others from starting new blobs.
Status pull_blobs(Session& session, store::Store& store, const std::string& repository,
                  const std::vector<store::Descriptor>& blobs, const TransferOptions& options) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  Status first_error;
  auto worker = [&] {
    for (size_t i; (i = next++) < blobs.size();) {
      {
        std::lock_guard lock(mutex);
        if (!first_error.ok()) return;
      }
      Status s = pull_blob(session, store, repository, blobs[i], options);
      if (!s.ok()) {
        std::lock_guard lock(mutex);
        if (first_error.ok()) first_error = s;
      }
    }
  };
  const size_t n = std::min<size_t>(blobs.size(), static_cast<size_t>(std::max(1, options.parallel)));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace

Result<store::Manifest> pull(store::Store& store, const store::Reference& ref,
                             const TransferOptions& options) {
  if (ref.huggingface()) return pull_huggingface(store, ref, options);
  report(options, Progress::step("pulling manifest"));
  Session session(registry_endpoint(ref, options.insecure), find_credentials(options.home, ref.registry),
                  {fmt::format("repository:{}:pull", ref.repository)});
  GS_ASSIGN_OR_RETURN(RawManifest raw,
                      fetch_manifest(session, ref.repository, ref.digest.empty() ? ref.tag : ref.digest));
  if (is_index(raw)) {
    GS_ASSIGN_OR_RETURN(std::string digest, first_manifest_of_index(raw.bytes));
    GS_ASSIGN_OR_RETURN(raw, fetch_manifest(session, ref.repository, digest));
  }
  GS_ASSIGN_OR_RETURN(store::Manifest manifest, store::parse_manifest(std::move(raw.bytes)));
  std::vector<store::Descriptor> blobs = {manifest.config};
  std::set<std::string> seen = {manifest.config.digest};
  for (const auto& layer : manifest.layers) {
    if (seen.insert(layer.digest).second) blobs.push_back(layer);
  }
  GS_RETURN_IF_ERROR(pull_blobs(session, store, ref.repository, blobs, options));
  report(options, Progress::step("verifying sha256 digest"));
  // Digests prove the bytes are what the manifest names, not that they are a
  // usable model: the GGUF structure is checked before the reference exists.
  for (const store::Descriptor* layer : manifest.gguf_layers()) {
    const Status usable = store::scan_gguf_file(store.blob_path(layer->digest)).status();
    if (!usable.ok()) {
      // Nothing unusable stays behind (unless another model already uses it).
      for (const store::Descriptor& blob : blobs) (void)store.discard_blob(blob.digest);
      return usable.with_context(
          fmt::format("{} is not a usable model (layer {})", ref.display(), layer->digest));
    }
  }
  report(options, Progress::step("writing manifest"));
  GS_RETURN_IF_ERROR(store.tag(ref, manifest));
  report(options, Progress::step("success"));
  return manifest;
}

}  // namespace gs::registry
