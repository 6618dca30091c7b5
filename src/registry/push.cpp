// Push: each blob the registry lacks is mounted from another repository of
// the same registry, or uploaded in chunks (POST, PATCH..., PUT ?digest=);
// then the manifest is PUT with its media type.
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "registry/registry.h"
#include "registry/session.h"

namespace gs::registry {
namespace {

uint64_t chunk_bytes() {
  // GENSTACK_UPLOAD_CHUNK_BYTES lets tests exercise several chunks with a small model.
  const char* text = std::getenv("GENSTACK_UPLOAD_CHUNK_BYTES");
  const uint64_t value = text ? std::strtoull(text, nullptr, 10) : 0;
  return value > 0 ? value : uint64_t{16} << 20;
}

void report(const TransferOptions& options, Progress event) {
  if (options.progress) options.progress(event);
}

// Another repository of the same registry whose model (in the local store) has the blob.
std::string mount_source(const store::Store& store, const store::Reference& ref, const std::string& digest) {
  for (const store::ModelEntry& entry : store.list()) {
    bool has = entry.manifest.config.digest == digest;
    for (const auto& layer : entry.manifest.layers) has = has || layer.digest == digest;
    if (!has) continue;
    for (const std::string& tag : entry.tags) {
      auto other = store::parse_reference(tag);
      if (other.ok() && other->registry == ref.registry && other->repository != ref.repository)
        return other->repository;
    }
  }
  return {};
}

Result<bool> blob_exists(Session& session, const std::string& repository, const std::string& digest) {
  GS_ASSIGN_OR_RETURN(HttpResponse head, session.send([&] {
    return make_request("HEAD", blob_url(session.endpoint(), repository, digest));
  }));
  if (head.status == 200) return true;
  if (head.status == 404) return false;
  return session.status_error("checking blob " + digest, head);
}

// Starts an upload session; an empty location means the mount succeeded.
Result<std::string> start_upload(Session& session, const std::string& repository, const std::string& digest,
                                 const std::string& from) {
  std::string url = uploads_url(session.endpoint(), repository);
  if (!from.empty()) url = with_query(url, "mount=" + digest + "&from=" + url_encode(from));
  GS_ASSIGN_OR_RETURN(HttpResponse started, session.send([&] { return make_request("POST", url); }));
  if (started.status == 201 && !from.empty()) return std::string();
  const std::string location = started.header("location");
  if (started.status != 202 || location.empty())
    return session.status_error("starting the upload of " + digest, started);
  return absolute_location(session.endpoint(), location);
}

Status upload_blob(Session& session, store::Store& store, const store::Descriptor& blob, std::string location,
                   const TransferOptions& options) {
  const std::string status = "pushing " + blob.digest;
  std::ifstream in(store.blob_path(blob.digest), std::ios::binary);
  if (!in) return Error("cannot read blob {} from the store", blob.digest);
  const uint64_t chunk = chunk_bytes();
  std::string body;
  for (uint64_t offset = 0; offset < blob.size;) {
    body.resize(static_cast<size_t>(std::min(chunk, blob.size - offset)));
    if (!in.read(body.data(), static_cast<std::streamsize>(body.size()))) {
      return Error("blob {} in the store is shorter than {} bytes", blob.digest, blob.size);
    }
    GS_ASSIGN_OR_RETURN(HttpResponse patched, session.send([&] {
      return make_request("PATCH", location,
                          {"Content-Type: application/octet-stream",
                           fmt::format("Content-Range: {}-{}", offset, offset + body.size() - 1)},
                          body);
    }));
    if (patched.status != 202) return session.status_error("uploading " + blob.digest, patched);
    if (!patched.header("location").empty())
      location = absolute_location(session.endpoint(), patched.header("location"));
    offset += body.size();
    report(options, {status, blob.digest, blob.size, offset, false, false});
  }
  const std::string finish_url = with_query(location, "digest=" + blob.digest);
  GS_ASSIGN_OR_RETURN(HttpResponse finished, session.send([&] {
    return make_request("PUT", finish_url, {"Content-Type: application/octet-stream"});
  }));
  if (finished.status != 201) return session.status_error("finishing the upload of " + blob.digest, finished);
  return Status::Ok();
}

Status push_blob(Session& session, store::Store& store, const store::Reference& ref,
                 const store::Descriptor& blob, const TransferOptions& options) {
  const std::string status = "pushing " + blob.digest;
  GS_ASSIGN_OR_RETURN(bool exists, blob_exists(session, ref.repository, blob.digest));
  if (exists) {
    report(options, {status, blob.digest, blob.size, blob.size, true, true});
    return Status::Ok();
  }
  report(options, {status, blob.digest, blob.size, 0, false, false});
  GS_ASSIGN_OR_RETURN(std::string location, start_upload(session, ref.repository, blob.digest,
                                                         mount_source(store, ref, blob.digest)));
  if (!location.empty()) GS_RETURN_IF_ERROR(upload_blob(session, store, blob, location, options));
  // A mount transfers nothing, like a skip, but the blob was not there before.
  report(options, {status, blob.digest, blob.size, blob.size, true, location.empty()});
  return Status::Ok();
}

}  // namespace

Result<std::string> push(store::Store& store, const store::Reference& ref, const TransferOptions& options) {
  if (ref.huggingface()) return Error("pushing to Hugging Face is not supported");
  GS_ASSIGN_OR_RETURN(store::ModelEntry entry, store.get(ref));
  const store::Manifest& manifest = entry.manifest;
  std::vector<std::string> scopes = {fmt::format("repository:{}:pull,push", ref.repository)};
  for (const auto* blob : {&manifest.config}) {
    if (auto from = mount_source(store, ref, blob->digest); !from.empty())
      scopes.push_back("repository:" + from + ":pull");
  }
  for (const auto& layer : manifest.layers) {
    if (auto from = mount_source(store, ref, layer.digest); !from.empty())
      scopes.push_back("repository:" + from + ":pull");
  }
  Session session(registry_endpoint(ref, options.insecure), find_credentials(options.home, ref.registry),
                  scopes);
  GS_RETURN_IF_ERROR(push_blob(session, store, ref, manifest.config, options));
  for (const auto& layer : manifest.layers)
    GS_RETURN_IF_ERROR(push_blob(session, store, ref, layer, options));
  report(options, Progress::step("pushing manifest"));
  const std::string url =
      manifest_url(session.endpoint(), ref.repository, ref.tag.empty() ? manifest.digest : ref.tag);
  GS_ASSIGN_OR_RETURN(HttpResponse put, session.send([&] {
    return make_request("PUT", url, {"Content-Type: " + manifest.media_type}, manifest.raw);
  }));
  if (put.status != 201 && put.status != 200)
    return session.status_error("pushing the manifest of " + ref.display(), put);
  const std::string claimed = put.header("docker-content-digest");
  if (!claimed.empty() && claimed != manifest.digest) {
    return Error("registry {} stored the manifest as {}, expected {}", ref.registry, claimed,
                 manifest.digest);
  }
  report(options, Progress::step("success"));
  return manifest.digest;
}

}  // namespace gs::registry
