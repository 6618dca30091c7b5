// tokenizer.json -> GGUF vocabulary metadata. The pre-tokenizer section is
// recognized by reducing it to the list of splits it performs and finding the
// tokenizer.ggml.pre family with exactly those splits; anything unknown is an
// error naming what was found, rather than a vocabulary that tokenizes wrong.
#include "tokenizer/hf_convert.h"

#include <fstream>
#include <map>
#include <sstream>

#include <boost/json.hpp>

#include "tokenizer/pretokenize.h"
#include "tokenizer/pretokenize_unicode.h"
#include "tokenizer/tokenizer.h"

namespace gs::hf {
namespace {

namespace json = boost::json;
using pretok::Step;

// The Split regexes of the tokenizer.json files we know, and what they do.
// Compared after NFC, so that a copy that went through normalization (as
// DeepSeek's Greek letters easily do) still matches.
struct KnownRegex {
  std::string_view regex;
  Step step;
};
constexpr KnownRegex kKnownRegexes[] = {
    {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     Step::kLlama3},
    {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     Step::kQwen2},
    {R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)", Step::kGpt2},
    {R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     Step::kTekken},
    {R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     Step::kGpt4o},
    {R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
     Step::kDeepseekV3},
    {R"(\p{N}{1,3})", Step::kNumbers3},
    {"[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+", Step::kCjkKanaRun},
    {R"([\r\n])", Step::kNewline},
    {R"(\s+$)", Step::kTrailingSpace},
    {R"(\p{N}+)", Step::kNumberRun},
    {R"(\p{N})", Step::kDigit},
    {R"(\s?\p{L}+)", Step::kLetterRun},
    {R"(\s?\p{P}+)", Step::kPunctuation},
    {"[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", Step::kCjkRun},
    {"\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+", Step::kPunctRun},
    {"\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-"
     "\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481"
     "\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-"
     "\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57"
     "\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-"
     "\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-"
     "\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184"
     "\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-"
     "\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-"
     "\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2"
     "\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
     Step::kLatinRun},
};

std::string nfc(std::string_view s) {
  std::string out;
  return unicode::to_nfc(s, out) ? out : std::string(s);
}

Result<const json::object*> object_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_object()) return Error("'{}' is missing or not an object", key);
  return &v->get_object();
}

std::string str_or(const json::object& o, std::string_view key, std::string_view fallback) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string(fallback);
}

bool bool_or(const json::object& o, std::string_view key, bool fallback) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

// What a pre-tokenizer does, as splits; `byte_level` is set when a ByteLevel
// step is present (required: this is a byte-level converter).
Status collect_steps(const json::value& v, std::vector<Step>& steps, bool& byte_level) {
  if (v.is_null()) return Status::Ok();
  if (!v.is_object()) return Error("pre_tokenizer is not an object");
  const json::object& o = v.get_object();
  const std::string type = str_or(o, "type", "");
  if (type == "Sequence") {
    const json::value* list = o.if_contains("pretokenizers");
    if (!list || !list->is_array()) return Error("pre_tokenizer Sequence without 'pretokenizers'");
    for (const json::value& item : list->get_array())
      GS_RETURN_IF_ERROR(collect_steps(item, steps, byte_level));
    return Status::Ok();
  }
  if (type == "ByteLevel") {
    byte_level = true;
    if (bool_or(o, "use_regex", true)) steps.push_back(Step::kGpt2);
    return Status::Ok();
  }
  if (type == "Digits") {
    steps.push_back(bool_or(o, "individual_digits", false) ? Step::kDigit : Step::kNumberRun);
    return Status::Ok();
  }
  if (type == "Split") {
    GS_ASSIGN_OR_RETURN(const json::object* pattern, object_at(o, "pattern"));
    const std::string regex = str_or(*pattern, "Regex", "");
    const std::string behavior = str_or(o, "behavior", "");
    if (behavior != "Isolated" || bool_or(o, "invert", false)) {
      return Error("pre_tokenizer Split with behavior '{}'{} is not supported", behavior,
                   bool_or(o, "invert", false) ? " and invert" : "");
    }
    const std::string normalized = nfc(regex);
    for (const KnownRegex& k : kKnownRegexes) {
      if (nfc(k.regex) == normalized) {
        steps.push_back(k.step);
        return Status::Ok();
      }
    }
    return Error("pre_tokenizer Split regex '{}' is not one we know", regex);
  }
  return Error("pre_tokenizer type '{}' is not supported", type);
}

Result<std::string> detect_pre(const json::object& root) {
  std::vector<Step> steps;
  bool byte_level = false;
  const json::value* pre = root.if_contains("pre_tokenizer");
  GS_RETURN_IF_ERROR(collect_steps(pre ? *pre : json::value(), steps, byte_level));
  if (!byte_level) return Error("not a byte-level BPE tokenizer: the pre_tokenizer has no ByteLevel step");
  std::string name = pretok::name_for(steps);
  if (name.empty()) return Error("the pre_tokenizer's splits match no tokenizer.ggml.pre we know");
  return name;
}

// "none" or "nfc"; other normalizers would change the text in ways the
// tokenizer does not reproduce, so they are an error.
Result<std::string> detect_normalizer(const json::value* v) {
  if (!v || v->is_null()) return std::string("none");
  if (!v->is_object()) return Error("normalizer is not an object");
  const json::object& o = v->get_object();
  const std::string type = str_or(o, "type", "");
  if (type == "NFC") return std::string("nfc");
  if (type == "Sequence") {
    const json::value* list = o.if_contains("normalizers");
    std::string result = "none";
    if (list && list->is_array()) {
      for (const json::value& item : list->get_array()) {
        GS_ASSIGN_OR_RETURN(std::string inner, detect_normalizer(&item));
        if (inner == "nfc") result = "nfc";
      }
    }
    return result;
  }
  return Error("normalizer type '{}' is not supported", type);
}

struct Vocabulary {
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  std::map<std::string, int64_t> id_of;  // token text -> id, added tokens included
};

Status read_vocab(const json::object& model, const json::value* added, Vocabulary& vocab) {
  GS_ASSIGN_OR_RETURN(const json::object* entries, object_at(model, "vocab"));
  std::map<int64_t, std::pair<std::string, int64_t>> by_id;
  for (const auto& [text, id] : *entries) {
    if (!id.is_int64() || id.get_int64() < 0)
      return Error("vocab entry '{}' has no valid id", std::string(text));
    by_id[id.get_int64()] = {std::string(text), static_cast<int64_t>(TokenType::kNormal)};
  }
  if (added && added->is_array()) {
    for (const json::value& a : added->get_array()) {
      if (!a.is_object()) return Error("added_tokens entry is not an object");
      const json::object& o = a.get_object();
      const json::value* id = o.if_contains("id");
      if (!id || !id->is_int64() || id->get_int64() < 0) return Error("added token without a valid id");
      const bool special = bool_or(o, "special", false);
      by_id[id->get_int64()] = {
          str_or(o, "content", ""),
          static_cast<int64_t>(special ? TokenType::kControl : TokenType::kUserDefined)};
    }
  }
  if (by_id.empty()) return Error("the vocabulary is empty");
  const int64_t size = by_id.rbegin()->first + 1;
  if (size > (int64_t{1} << 24)) return Error("token id {} is implausibly large", size - 1);
  for (int64_t id = 0; id < size; ++id) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {  // a hole in the ids: a filler that never matches
      vocab.tokens.push_back(fmt::format("[PAD{}]", id));
      vocab.types.push_back(static_cast<int64_t>(TokenType::kUnused));
      continue;
    }
    vocab.tokens.push_back(it->second.first);
    vocab.types.push_back(it->second.second);
    vocab.id_of[it->second.first] = id;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> read_merges(const json::object& model) {
  const json::value* v = model.if_contains("merges");
  std::vector<std::string> merges;
  if (!v) return merges;
  if (!v->is_array()) return Error("model.merges is not an array");
  merges.reserve(v->get_array().size());
  for (const json::value& m : v->get_array()) {
    if (m.is_string()) {
      merges.emplace_back(m.get_string());
      continue;
    }
    const json::array* pair = m.if_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
      return Error("merge {} is neither \"a b\" nor [a, b]", merges.size());
    }
    const std::string left((*pair)[0].get_string()), right((*pair)[1].get_string());
    if (left.find(' ') != std::string::npos || right.empty()) {
      return Error("merge {} ['{}', '{}'] cannot be written as 'left right'", merges.size(), left, right);
    }
    merges.push_back(left + " " + right);
  }
  return merges;
}

// A special token named in tokenizer_config.json: a string or {"content": ...}.
std::string token_content(const json::value* v) {
  if (!v) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_object()) return str_or(v->get_object(), "content", "");
  return "";
}

// Whether the post-processor's template for one sequence starts with `token`.
bool template_starts_with(const json::object& root, const std::string& token) {
  const json::value* pp = root.if_contains("post_processor");
  if (!pp || !pp->is_object()) return false;
  const json::object& o = pp->get_object();
  if (str_or(o, "type", "") == "Sequence") {
    const json::value* list = o.if_contains("processors");
    if (!list || !list->is_array()) return false;
    for (const json::value& p : list->get_array()) {
      json::object wrapper;
      wrapper["post_processor"] = p;
      if (template_starts_with(wrapper, token)) return true;
    }
    return false;
  }
  const json::value* single = o.if_contains("single");
  if (str_or(o, "type", "") != "TemplateProcessing" || !single || !single->is_array() ||
      single->get_array().empty() || !single->get_array()[0].is_object()) {
    return false;
  }
  const json::value* special = single->get_array()[0].get_object().if_contains("SpecialToken");
  return special && special->is_object() && str_or(special->get_object(), "id", "") == token;
}

void add_templates(const json::object& config, Metadata& md) {
  const json::value* t = config.if_contains("chat_template");
  if (!t) return;
  if (t->is_string()) {
    md.emplace_back("tokenizer.chat_template", gguf::Value::str(std::string(t->get_string())));
    return;
  }
  if (!t->is_array()) return;
  for (const json::value& item : t->get_array()) {  // [{"name": ..., "template": ...}]
    if (!item.is_object()) continue;
    const std::string name = str_or(item.get_object(), "name", ""),
                      text = str_or(item.get_object(), "template", "");
    if (name.empty()) continue;
    const std::string key = name == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template." + name;
    md.emplace_back(key, gguf::Value::str(text));
  }
}

Status add_config(const json::object& root, const json::object& config, const Vocabulary& vocab,
                  Metadata& md) {
  const std::pair<const char*, const char*> ids[] = {{"bos_token", "tokenizer.ggml.bos_token_id"},
                                                     {"eos_token", "tokenizer.ggml.eos_token_id"},
                                                     {"unk_token", "tokenizer.ggml.unknown_token_id"},
                                                     {"pad_token", "tokenizer.ggml.padding_token_id"}};
  for (const auto& [field, key] : ids) {
    const std::string content = token_content(config.if_contains(field));
    if (content.empty()) continue;
    auto it = vocab.id_of.find(content);
    if (it == vocab.id_of.end())
      return Error("tokenizer_config.json {} '{}' is not in the vocabulary", field, content);
    md.emplace_back(key, gguf::Value::u32(static_cast<uint32_t>(it->second)));
  }
  const std::string bos = token_content(config.if_contains("bos_token"));
  const bool add_bos = bool_or(config, "add_bos_token", !bos.empty() && template_starts_with(root, bos));
  md.emplace_back("tokenizer.ggml.add_bos_token", gguf::Value::boolean(add_bos));
  md.emplace_back("tokenizer.ggml.add_eos_token",
                  gguf::Value::boolean(bool_or(config, "add_eos_token", false)));
  add_templates(config, md);
  return Status::Ok();
}

Result<json::value> parse_json(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Error("{} is not valid JSON: {}", what, ec.message());
  if (!v.is_object()) return Error("{} is not a JSON object", what);
  return v;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot open {}", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error("cannot read {}", path);
  return ss.str();
}

}  // namespace

Result<Metadata> convert(std::string_view tokenizer_json, std::string_view config_json,
                         const ConvertOptions& options) {
  GS_ASSIGN_OR_RETURN(json::value root_value, parse_json(tokenizer_json, "tokenizer.json"));
  const json::object& root = root_value.get_object();
  GS_ASSIGN_OR_RETURN(const json::object* model, object_at(root, "model"));
  if (str_or(*model, "type", "BPE") != "BPE")
    return Error("model.type '{}' is not BPE", str_or(*model, "type", ""));
  if (bool_or(*model, "byte_fallback", false)) return Error("a BPE with byte_fallback is not byte-level BPE");
  std::string pre = options.pre;
  if (pre.empty()) {
    auto detected = detect_pre(root);
    if (!detected.ok())
      return detected.status().with_context("pre_tokenizer (pass a tokenizer.ggml.pre name to override)");
    pre = *detected;
  }
  GS_RETURN_IF_ERROR(pretok::config_for(pre).status());
  GS_ASSIGN_OR_RETURN(std::string normalizer, detect_normalizer(root.if_contains("normalizer")));

  Vocabulary vocab;
  GS_RETURN_IF_ERROR(read_vocab(*model, root.if_contains("added_tokens"), vocab));
  GS_ASSIGN_OR_RETURN(std::vector<std::string> merges, read_merges(*model));

  Metadata md;
  md.reserve(16);  // also keeps GCC 12's -Warray-bounds from a false alarm on the first emplace
  md.emplace_back("tokenizer.ggml.model", gguf::Value::str("gpt2"));
  md.emplace_back("tokenizer.ggml.pre", gguf::Value::str(pre));
  md.emplace_back("tokenizer.ggml.tokens", gguf::Value::string_array(std::move(vocab.tokens)));
  md.emplace_back("tokenizer.ggml.token_type", gguf::Value::i32_array(vocab.types));
  md.emplace_back("tokenizer.ggml.merges", gguf::Value::string_array(std::move(merges)));
  md.emplace_back("tokenizer.genstack.normalizer", gguf::Value::str(normalizer));
  md.emplace_back("tokenizer.genstack.ignore_merges",
                  gguf::Value::boolean(bool_or(*model, "ignore_merges", false)));
  json::value config_value = json::object();
  if (!config_json.empty()) {
    GS_ASSIGN_OR_RETURN(config_value, parse_json(config_json, "tokenizer_config.json"));
  }
  GS_RETURN_IF_ERROR(add_config(root, config_value.get_object(), vocab, md));
  return md;
}

Result<Metadata> convert_files(const std::string& tokenizer_path, const std::string& config_path,
                               const ConvertOptions& options) {
  GS_ASSIGN_OR_RETURN(std::string tokenizer_json, read_file(tokenizer_path));
  std::string config_json;
  if (!config_path.empty()) {
    GS_ASSIGN_OR_RETURN(config_json, read_file(config_path));
  }
  auto md = convert(tokenizer_json, config_json, options);
  if (!md.ok()) return md.status().with_context(tokenizer_path);
  return md;
}

Status write_vocab_gguf(const Metadata& metadata, const std::string& path) {
  gguf::Writer writer;
  writer.set("general.type", gguf::Value::str("vocab"));
  for (const auto& [key, value] : metadata) writer.set(key, value);
  return writer.write(path);
}

}  // namespace gs::hf
