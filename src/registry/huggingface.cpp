#include "registry/huggingface.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/ascii.h"
#include "registry/download.h"
#include "registry/session.h"
#include "store/digest.h"
#include "store/package.h"

namespace gs::registry {
namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `quant` occurs in the file's base name with no letter, digit or '_' glued to either side.
bool names_quantization(std::string_view file, std::string_view quant) {
  const std::string base =
      ascii_lower(file.substr(file.rfind('/') == std::string_view::npos ? 0 : file.rfind('/') + 1));
  const std::string q = ascii_lower(quant);
  for (size_t at = base.find(q); at != std::string::npos; at = base.find(q, at + 1)) {
    const bool left = at == 0 || !is_name_char(base[at - 1]);
    const bool right = at + q.size() >= base.size() || !is_name_char(base[at + q.size()]);
    if (left && right) return true;
  }
  return false;
}

std::string hf_endpoint() {
  const char* env = std::getenv("HF_ENDPOINT");
  std::string endpoint = env && *env ? env : "https://huggingface.co";
  while (endpoint.ends_with('/')) endpoint.pop_back();
  return endpoint;
}

std::vector<std::string> auth_headers() {
  const char* token = std::getenv("HF_TOKEN");
  if (!token || !*token) return {};
  return {fmt::format("Authorization: Bearer {}", token)};
}

struct Sibling {
  std::string name;
  std::string sha256;  // "sha256:<hex>" when the listing gives the LFS hash
};

Result<std::vector<Sibling>> list_files(Session& session, const std::string& repository) {
  const std::string url = fmt::format("{}/api/models/{}", session.endpoint().base, repository);
  GS_ASSIGN_OR_RETURN(HttpResponse response, session.send([&] {
    HttpRequest request = make_request("GET", url, auth_headers());
    request.follow_redirects = true;
    return request;
  }));
  if (response.status == 401 || response.status == 404) {
    return Error("Hugging Face repository {} not found (or private: set HF_TOKEN), HTTP {}", repository,
                 response.status);
  }
  if (response.status != 200) return session.status_error("listing " + repository, response);
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(response.body, ec);
  const auto* siblings = !ec && doc.is_object() ? doc.get_object().if_contains("siblings") : nullptr;
  if (!siblings || !siblings->is_array())
    return Error("the listing of {} has no 'siblings' array", repository);
  std::vector<Sibling> files;
  for (const auto& s : siblings->get_array()) {
    const auto* name = s.is_object() ? s.get_object().if_contains("rfilename") : nullptr;
    if (!name || !name->is_string()) continue;
    Sibling file{std::string(name->get_string()), {}};
    const auto* lfs = s.get_object().if_contains("lfs");
    const auto* sha = lfs && lfs->is_object() ? lfs->get_object().if_contains("sha256") : nullptr;
    if (sha && sha->is_string()) file.sha256 = "sha256:" + std::string(sha->get_string());
    files.push_back(std::move(file));
  }
  return files;
}

// Downloads one file into the store; returns its blob descriptor.
Result<store::Descriptor> download_file(Session& session, store::Store& store, const std::string& repository,
                                        const Sibling& file, const TransferOptions& options) {
  const std::string url = hf_file_url(session.endpoint().base, repository, file.name);
  // The partial is named after the URL: its content digest is known only at the end.
  const std::string url_key = store::sha256_digest("hf:" + url);
  GS_ASSIGN_OR_RETURN(store::FileLock lock, store.lock_blob(url_key));
  if (!file.sha256.empty() && store.has_blob(file.sha256)) {
    if (options.progress) options.progress({"pulling " + file.sha256, file.sha256, 0, 0, true, true});
    std::error_code ec;
    return store::Descriptor{std::string(store::media::kGguf),
                             file.sha256,
                             std::filesystem::file_size(store.blob_path(file.sha256), ec),
                             {}};
  }
  const std::string status = "pulling " + file.name;
  DownloadSpec spec;
  spec.url = url;
  spec.headers = auth_headers();
  spec.partial = store.partial_path(url_key);
  spec.hash = true;
  spec.on_progress = [&](uint64_t completed, uint64_t total) {
    if (options.progress) options.progress({status, file.sha256, total, completed, false, false});
  };
  GS_ASSIGN_OR_RETURN(Downloaded got, download_resumable(session, spec));
  if (!file.sha256.empty() && got.digest != file.sha256) {
    std::filesystem::remove(spec.partial);
    return Error("{} hashes to {}, but the repository listing says {}", file.name, got.digest, file.sha256);
  }
  if (!store.has_blob(got.digest)) {
    std::error_code ec;
    std::filesystem::rename(spec.partial, store.partial_path(got.digest), ec);
    if (ec) return Error("cannot move the download of {} into place: {}", file.name, ec.message());
    GS_RETURN_IF_ERROR(store.commit_partial(got.digest, got.size).with_context("verifying " + file.name));
  } else {
    std::filesystem::remove(spec.partial);
  }
  if (options.progress)
    options.progress({"pulling " + got.digest, got.digest, got.size, got.size, true, false});
  return store::Descriptor{std::string(store::media::kGguf), got.digest, got.size, {}};
}

bool five_digits(std::string_view s) {
  return s.size() == 5 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct ShardName {
  std::string prefix;  // the set's name: everything before "-00001-of-00003.gguf"
  size_t count = 0;    // files in the set
};
// "<prefix>-NNNNN-of-NNNNN.gguf" (llama.cpp's gguf-split naming), any case.
std::optional<ShardName> shard_name(std::string_view file) {
  constexpr size_t kTail = std::string_view("-00001-of-00003.gguf").size();
  if (file.size() < kTail) return std::nullopt;
  const std::string_view tail = file.substr(file.size() - kTail);
  if (tail[0] != '-' || !five_digits(tail.substr(1, 5)) || ascii_lower(tail.substr(6, 4)) != "-of-" ||
      !five_digits(tail.substr(10, 5)) || ascii_lower(tail.substr(15)) != ".gguf") {
    return std::nullopt;
  }
  return ShardName{std::string(file.substr(0, file.size() - kTail)),
                   static_cast<size_t>(std::stoul(std::string(tail.substr(10, 5))))};
}

}  // namespace

Result<std::vector<std::string>> pick_gguf_files(const std::vector<std::string>& files,
                                                 std::string_view quantization) {
  std::map<std::string, std::vector<std::string>> sets;  // shard-set prefix (or the file) -> files
  for (const std::string& file : files) {
    const std::string l = ascii_lower(file);
    if (!l.ends_with(".gguf") || l.find("mmproj") != std::string::npos) continue;
    if (!names_quantization(file, quantization)) continue;
    const auto shard = shard_name(file);
    sets[shard ? shard->prefix : file].push_back(file);
  }
  if (sets.empty()) {
    std::string available;
    for (const std::string& f : files) {
      if (ascii_lower(f).ends_with(".gguf")) available += (available.empty() ? "" : ", ") + f;
    }
    return Error("no {} GGUF file in the repository{}", quantization,
                 available.empty() ? " (it has no .gguf files)" : " (it has: " + available + ")");
  }
  // Several candidates (e.g. in subfolders): the first by name, deterministically.
  std::vector<std::string> chosen = sets.begin()->second;
  std::sort(chosen.begin(), chosen.end());
  if (const auto shard = shard_name(chosen.back()); shard) {
    const size_t of = shard->count;
    if (chosen.size() != of)
      return Error("the shard set {} has {} of {} files", sets.begin()->first, chosen.size(), of);
  }
  return chosen;
}

std::string hf_file_url(std::string_view endpoint, std::string_view repository, std::string_view file) {
  std::string path;
  for (size_t start = 0; start <= file.size();) {
    const size_t slash = std::min(file.find('/', start), file.size());
    if (start > 0) path.push_back('/');
    path.append(url_encode(file.substr(start, slash - start)));
    start = slash + 1;
  }
  return fmt::format("{}/{}/resolve/main/{}", endpoint, repository, path);
}

Result<store::Manifest> pull_huggingface(store::Store& store, const store::Reference& ref,
                                         const TransferOptions& options) {
  const std::string quantization =
      ref.tag.empty() || ref.tag == "latest" ? std::string(kDefaultQuantization) : ref.tag;
  if (options.progress) options.progress(Progress::step("pulling manifest"));
  const std::string endpoint = hf_endpoint();
  Session session(Endpoint{endpoint, "hf.co"}, std::nullopt, {});
  GS_ASSIGN_OR_RETURN(std::vector<Sibling> siblings, list_files(session, ref.repository));
  std::vector<std::string> names;
  for (const Sibling& s : siblings) names.push_back(s.name);
  GS_ASSIGN_OR_RETURN(std::vector<std::string> picked, pick_gguf_files(names, quantization));
  std::vector<store::Descriptor> layers;
  for (const std::string& name : picked) {
    const auto it =
        std::find_if(siblings.begin(), siblings.end(), [&](const Sibling& s) { return s.name == name; });
    GS_ASSIGN_OR_RETURN(store::Descriptor layer, download_file(session, store, ref.repository, *it, options));
    layers.push_back(std::move(layer));
  }
  if (options.progress) options.progress(Progress::step("verifying sha256 digest"));
  // The store's packager checks the GGUF structurally and fills the config from
  // its metadata. It copies its inputs in, so the committed blobs are copied onto
  // themselves: one extra write, the price of one packaging path.
  store::PackageInputs inputs;
  for (const auto& layer : layers) inputs.gguf_files.push_back(store.blob_path(layer.digest));
  GS_ASSIGN_OR_RETURN(store::Manifest manifest, store::package_model(store, inputs));
  store::Reference tagged = ref;
  tagged.tag = quantization;
  GS_RETURN_IF_ERROR(store.tag(tagged, manifest));
  if (tagged.tag != ref.tag) GS_RETURN_IF_ERROR(store.tag(ref, manifest));
  if (options.progress) options.progress(Progress::step("success"));
  return manifest;
}

}  // namespace gs::registry
