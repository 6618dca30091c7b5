// libFuzzer target for the byte-level BPE tokenizer: arbitrary bytes (valid
// UTF-8 or not) through the real Llama 3 and Qwen3 vocabularies and through
// every pre-tokenizer family. The first input byte picks the tokenizer; the
// rest is the text. An input must:
//  - encode without crashing, with and without parsing special tokens, to
//    ids inside the vocabulary;
//  - decode back to exactly the text (for the tokenizers that normalize: to
//    text with the same NFC), invalid bytes included, nothing lost or added;
//  - stream through StreamingDetokenizer without crashing;
//  - give an NFC that is stable (NFC of NFC changes nothing).
// Anything else aborts. Vocabularies come from tests/data/tokenizer.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/pretokenize_unicode.h"
#include "tokenizer/tokenizer.h"

namespace {

struct Entry {
  std::unique_ptr<gs::gguf::File> file;
  std::unique_ptr<gs::Tokenizer> tokenizer;
  bool nfc = false;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bpe_fuzz: %s\n", message.c_str());
  std::abort();
}

std::string data_dir() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "tests" / "data" / "tokenizer")
      .string();
}

Entry load(const std::string& path, bool nfc) {
  auto file = gs::gguf::File::open(path);
  if (!file.ok()) die(file.error());
  auto tok = gs::Tokenizer::from_gguf(**file);
  if (!tok.ok()) die(tok.error());
  return {std::move(file).value(), std::move(tok).value(), nfc};
}

// The Qwen3 vocabulary under each pre-tokenizer family's name, so every
// splitter runs with real merges behind it.
Entry with_pre(const std::string& pre) {
  auto base = gs::gguf::File::open(data_dir() + "/qwen3.gguf");
  if (!base.ok()) die(base.error());
  gs::gguf::Writer writer;
  for (const auto& [key, value] : (*base)->metadata()) writer.set(key, value);
  writer.set("tokenizer.ggml.pre", gs::gguf::Value::str(pre));
  writer.set("tokenizer.genstack.normalizer", gs::gguf::Value::str("none"));
  const std::string path = (std::filesystem::temp_directory_path() / ("bpe_fuzz_" + pre + ".gguf")).string();
  gs::Status written = writer.write(path);
  if (!written.ok()) die(written.message());
  return load(path, false);
}

std::vector<Entry>& tokenizers() {
  static std::vector<Entry> all = [] {
    std::vector<Entry> v;
    v.push_back(load(data_dir() + "/llama3.gguf", false));
    v.push_back(load(data_dir() + "/qwen3.gguf", true));
    for (const char* pre : {"gpt2", "smollm", "deepseek-llm", "deepseek-coder"}) v.push_back(with_pre(pre));
    return v;
  }();
  return all;
}

void check_ids(const gs::Tokenizer& tok, const std::vector<gs::TokenId>& ids) {
  for (gs::TokenId id : ids) {
    if (id < 0 || id >= tok.vocab_size()) die("token id out of range");
  }
}

}  // namespace

// Loading six vocabularies takes seconds under ASan: done before the first
// input, so that it does not count against the per-input timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Entry& entry = tokenizers()[data[0] % tokenizers().size()];
  const gs::Tokenizer& tok = *entry.tokenizer;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  // Normalizing tokenizers normalize each stretch between added tokens on
  // its own (as Hugging Face does), so compare in NFC: NFC(NFC(a) + b) is
  // NFC(a + b).
  auto nfc = [](const std::string& s) {
    std::string out;
    return gs::unicode::to_nfc(s, out) ? out : s;
  };
  const std::string text_nfc = nfc(text);
  if (nfc(text_nfc) != text_nfc) die("NFC is not stable");

  const std::vector<gs::TokenId> ids = tok.encode(text, false);
  check_ids(tok, ids);
  const std::string decoded = tok.decode(ids);
  if (entry.nfc ? nfc(decoded) != text_nfc : decoded != text) die("decode(encode(x)) != x");
  check_ids(tok, tok.encode(text, true, true));

  gs::StreamingDetokenizer detok(tok, true);
  for (gs::TokenId id : ids) detok.push(id);
  detok.flush();
  return 0;
}
