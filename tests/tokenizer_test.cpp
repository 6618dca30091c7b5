#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace gs {
namespace {

namespace json = boost::json;
using gguf::Value;

const std::string kMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// ---- helpers ------------------------------------------------------------------

std::vector<TokenId> ids_of(const json::value& v) {
  std::vector<TokenId> ids;
  for (const json::value& x : v.as_array()) ids.push_back(static_cast<TokenId>(x.to_number<int64_t>()));
  return ids;
}

std::string text_of(const json::value& v) { return std::string(v.as_string()); }

// A parsed file and its tokenizer; fails the test when either does not load.
struct Loaded {
  std::unique_ptr<gguf::File> file;
  std::unique_ptr<Tokenizer> tokenizer;
};

Loaded load_model(const std::string& path) {
  Loaded out;
  auto file = gguf::File::open(path);
  EXPECT_TRUE(file.ok()) << path << ": " << file.error();
  if (!file.ok()) return out;
  out.file = std::move(file).value();
  auto tok = Tokenizer::from_gguf(*out.file);
  EXPECT_TRUE(tok.ok()) << path << ": " << tok.error();
  if (tok.ok()) out.tokenizer = std::move(tok).value();
  return out;
}

const Tokenizer& stories() {
  static Loaded loaded = load_model(test::shared_path("models/stories260K.gguf"));
  return *loaded.tokenizer;
}

using Metadata = std::vector<std::pair<std::string, Value>>;

// A minimal llama vocabulary: <unk> <s> </s>, the given pieces, scores and
// types (normal by default).
struct VocabBuilder {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<double> scores = {0, 0, 0};
  std::vector<int64_t> types = {2, 3, 3};

  TokenId add(std::string piece, double score = 0.0, TokenType type = TokenType::kNormal) {
    tokens.push_back(std::move(piece));
    scores.push_back(score);
    types.push_back(static_cast<int64_t>(type));
    return static_cast<TokenId>(tokens.size() - 1);
  }
  TokenId add_byte(int b) { return add(fmt::format("<0x{:02X}>", b), 0.0, TokenType::kByte); }

  Metadata metadata() const {
    return {{"tokenizer.ggml.model", Value::str("llama")},
            {"tokenizer.ggml.tokens", Value::string_array(tokens)},
            {"tokenizer.ggml.scores", Value::f32_array(scores)},
            {"tokenizer.ggml.token_type", Value::i32_array(types)},
            {"tokenizer.ggml.bos_token_id", Value::u32(1)},
            {"tokenizer.ggml.eos_token_id", Value::u32(2)},
            {"tokenizer.ggml.unknown_token_id", Value::u32(0)}};
  }
};

void set(Metadata& md, const std::string& key, Value v) {
  for (auto& [k, old] : md) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  md.emplace_back(key, std::move(v));
}

void remove_key(Metadata& md, const std::string& key) {
  std::erase_if(md, [&](const auto& kv) { return kv.first == key; });
}

// Writes `md` as a GGUF file and builds a tokenizer from it: the tokenizer or
// the error message.
Result<std::unique_ptr<Tokenizer>> tokenizer_from(const Metadata& md) {
  gguf::Writer writer;
  writer.set("general.architecture", Value::str("llama"));
  for (const auto& [k, v] : md) writer.set(k, v);
  static int counter = 0;
  const std::string path = fmt::format("{}/vocab-{}.gguf", test::temp_dir(), counter++);
  Status written = writer.write(path);
  EXPECT_TRUE(written.ok()) << written.message();
  auto file = gguf::File::open(path);
  EXPECT_TRUE(file.ok()) << file.error();
  if (!file.ok()) return file.status();
  return Tokenizer::from_gguf(**file);
}

std::unique_ptr<Tokenizer> must(Result<std::unique_ptr<Tokenizer>> r) {
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::string stream(const Tokenizer& tok, const std::vector<TokenId>& ids, bool starts_text) {
  StreamingDetokenizer detok(tok, starts_text);
  std::string out;
  for (TokenId id : ids) out += detok.push(id);
  return out + detok.flush();
}

// ---- the goldens --------------------------------------------------------------

TEST(Tokenizer, StoriesTokenizeGoldenWithBos) {
  auto lines = test::read_jsonl(test::shared_path("golden/stories260K.tokenize.jsonl"));
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) {
    const std::string text = text_of(line.at("text"));
    EXPECT_EQ(stories().encode(text, true), ids_of(line.at("ids"))) << text;
  }
}

TEST(Tokenizer, StoriesTokenizeGoldenWithoutBos) {
  auto lines = test::read_jsonl(test::shared_path("golden/stories260K.tokenize-nobos.jsonl"));
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) {
    const std::string text = text_of(line.at("text"));
    EXPECT_EQ(stories().encode(text, false), ids_of(line.at("ids"))) << text;
  }
}

// Every golden with prompts, against the model it was made with.
TEST(Tokenizer, GoldenPromptIdsOfEveryModel) {
  namespace fs = std::filesystem;
  int checked_files = 0;
  for (const auto& entry : fs::directory_iterator(test::shared_path("golden"))) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".jsonl" || name.find(".tokenize") != std::string::npos) continue;
    const std::string stem = entry.path().stem().string();
    const std::string model =
        stem == "stories260K.greedy" ? "models/stories260K.gguf" : "models/synthetic/" + stem + ".gguf";
    Loaded loaded = load_model(test::shared_path(model));
    ASSERT_NE(loaded.tokenizer, nullptr) << model;
    for (const auto& line : test::read_jsonl(entry.path().string())) {
      const std::string prompt = text_of(line.at("prompt"));
      const Tokenizer& tok = *loaded.tokenizer;
      EXPECT_EQ(tok.encode(prompt, tok.add_bos_default()), ids_of(line.at("prompt_ids")))
          << name << ": " << prompt;
    }
    ++checked_files;
  }
  EXPECT_GE(checked_files, 29);
}

TEST(Tokenizer, StoriesGreedyTextFromIds) {
  auto lines = test::read_jsonl(test::shared_path("golden/stories260K.greedy.jsonl"));
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) {
    const std::vector<TokenId> ids = ids_of(line.at("greedy_ids"));
    const std::string expected = text_of(line.at("greedy_text"));
    EXPECT_EQ(stories().decode(ids), expected);
    // The prompt is already in context: the first token keeps its space.
    StreamingDetokenizer detok(stories());
    std::string streamed;
    for (TokenId id : ids) streamed += detok.push(id);
    streamed += detok.flush();
    EXPECT_EQ(streamed, expected);
  }
}

// ---- encoding rules -----------------------------------------------------------

TEST(Tokenizer, StoriesMetadata) {
  const Tokenizer& tok = stories();
  EXPECT_EQ(tok.vocab_size(), 512);
  EXPECT_EQ(tok.bos(), 1);
  EXPECT_EQ(tok.eos(), 2);
  EXPECT_TRUE(tok.add_bos_default());
  EXPECT_TRUE(tok.add_space_prefix());
  EXPECT_TRUE(tok.is_end_of_generation(2));
  EXPECT_FALSE(tok.is_end_of_generation(1));
  EXPECT_FALSE(tok.is_end_of_generation(-1));
  EXPECT_EQ(tok.type(1), TokenType::kControl);
  EXPECT_EQ(tok.type(3), TokenType::kByte);
  EXPECT_EQ(tok.token_text(1), "<s>");
  EXPECT_EQ(tok.token_bytes(1), "");
  EXPECT_EQ(tok.token_bytes(0), "");
  EXPECT_EQ(tok.token_bytes(3 + 0x41), "A");
  EXPECT_EQ(tok.token_bytes(-1), "");
  EXPECT_EQ(tok.token_bytes(512), "");
  EXPECT_EQ(tok.token_text(9999), "");
}

TEST(Tokenizer, EmptyText) {
  EXPECT_EQ(stories().encode("", false), std::vector<TokenId>{});
  EXPECT_EQ(stories().encode("", true), std::vector<TokenId>{1});
}

TEST(Tokenizer, SpecialTokenTextIsPlain) {
  const std::vector<TokenId> ids = stories().encode("<s></s>", false);
  for (TokenId id : ids) EXPECT_NE(stories().type(id), TokenType::kControl);
  EXPECT_EQ(stories().decode(ids), " <s></s>");
}

TEST(Tokenizer, HighestScoreMergesFirst) {
  VocabBuilder v;
  const TokenId space = v.add(kMark), a = v.add("a");
  v.add("b");
  const TokenId c = v.add("c");
  const TokenId ab = v.add("ab", 1.0), bc = v.add("bc", 2.0);
  auto tok = must(tokenizer_from(v.metadata()));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->encode("abc", false), (std::vector<TokenId>{space, a, bc}));
  v.scores[static_cast<size_t>(ab)] = 3.0;
  tok = must(tokenizer_from(v.metadata()));
  EXPECT_EQ(tok->encode("abc", false), (std::vector<TokenId>{space, ab, c}));
}

TEST(Tokenizer, EqualScoresMergeLeftmost) {
  VocabBuilder v;
  const TokenId space = v.add(kMark), a = v.add("a"), aa = v.add("aa", 1.0);
  auto tok = must(tokenizer_from(v.metadata()));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->encode("aaa", false), (std::vector<TokenId>{space, aa, a}));
  EXPECT_EQ(tok->encode("aaaa", false), (std::vector<TokenId>{space, aa, aa}));
}

TEST(Tokenizer, ByteFallbackAndUnknown) {
  VocabBuilder v;
  const TokenId space = v.add(kMark), x = v.add("x");
  const TokenId e4 = v.add_byte(0xE4), b8 = v.add_byte(0xB8), ad = v.add_byte(0xAD);
  auto tok = must(tokenizer_from(v.metadata()));
  ASSERT_NE(tok, nullptr);
  // 中 = E4 B8 AD is not a piece: its bytes. 'y' has no byte token: <unk>.
  EXPECT_EQ(tok->encode("x\xE4\xB8\xADy", false), (std::vector<TokenId>{space, x, e4, b8, ad, 0}));
  EXPECT_EQ(tok->token_bytes(e4), "\xE4");
}

TEST(Tokenizer, SpacePrefixAndBosFlags) {
  VocabBuilder v;
  const TokenId space = v.add(kMark), x = v.add("x");
  Metadata md = v.metadata();
  set(md, "tokenizer.ggml.add_space_prefix", Value::boolean(false));
  set(md, "tokenizer.ggml.add_bos_token", Value::boolean(false));
  auto tok = must(tokenizer_from(md));
  ASSERT_NE(tok, nullptr);
  EXPECT_FALSE(tok->add_bos_default());
  EXPECT_FALSE(tok->add_space_prefix());
  EXPECT_EQ(tok->encode("x x", false), (std::vector<TokenId>{x, space, x}));
  EXPECT_EQ(tok->encode("x", true), (std::vector<TokenId>{1, x}));
  EXPECT_EQ(stream(*tok, tok->encode("x x", true), true), "x x");
}

TEST(Tokenizer, UserDefinedTokensAreSplitOut) {
  VocabBuilder v;
  const TokenId space = v.add(kMark), x = v.add("x");
  const TokenId user = v.add("<tool>", 0.0, TokenType::kUserDefined);
  const TokenId longer = v.add("<tool>!", 0.0, TokenType::kUserDefined);
  auto tok = must(tokenizer_from(v.metadata()));
  ASSERT_NE(tok, nullptr);
  // The text after a user-defined token gets the space prefix again (llama.cpp).
  EXPECT_EQ(tok->encode("x<tool>x", false), (std::vector<TokenId>{space, x, user, space, x}));
  EXPECT_EQ(tok->encode("<tool>!<tool>", false), (std::vector<TokenId>{longer, user}));
  EXPECT_EQ(tok->token_bytes(user), "<tool>");
  // Control-token text stays plain text: '<', 's', '>' are neither pieces nor
  // byte tokens here, so each is <unk>.
  EXPECT_EQ(tok->encode("<s>", false), (std::vector<TokenId>{space, 0, 0, 0}));
}

TEST(Tokenizer, EndOfGenerationIds) {
  VocabBuilder v;
  const TokenId eot = v.add("<|eot|>", 0.0, TokenType::kControl);
  const TokenId eom = v.add("<|eom|>", 0.0, TokenType::kControl);
  Metadata md = v.metadata();
  set(md, "tokenizer.ggml.eot_token_id", Value::u32(static_cast<uint32_t>(eot)));
  set(md, "tokenizer.ggml.eom_token_id", Value::i32(eom));
  set(md, "tokenizer.ggml.padding_token_id", Value::u32(0xFFFFFFFFu));  // "none": not read, not an error
  auto tok = must(tokenizer_from(md));
  ASSERT_NE(tok, nullptr);
  EXPECT_TRUE(tok->is_end_of_generation(2));
  EXPECT_TRUE(tok->is_end_of_generation(eot));
  EXPECT_TRUE(tok->is_end_of_generation(eom));
  EXPECT_FALSE(tok->is_end_of_generation(1));
  EXPECT_EQ(tok->token_bytes(eot), "");
}

TEST(Tokenizer, NoneBosIsNeverAdded) {
  VocabBuilder v;
  const TokenId x = v.add(kMark + "x");
  Metadata md = v.metadata();
  set(md, "tokenizer.ggml.bos_token_id", Value::u32(0xFFFFFFFFu));
  auto tok = must(tokenizer_from(md));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->bos(), -1);
  EXPECT_EQ(tok->encode("x", true), std::vector<TokenId>{x});
}

// ---- round trips --------------------------------------------------------------

const std::vector<std::string>& round_trip_texts() {
  static const std::vector<std::string> texts = {
      "Hello world",
      "Once upon a time, there was a little girl named Lily.",
      "  leading and trailing  ",
      "tabs\tand\nnewlines\r\n",
      "中文文本测试，你好世界",
      "Emoji: 🙂🚀👍🏽 and 👨‍👩‍👧‍👦 family",
      "mixed: café naïve 日本語 Ünïcödé ✓ ∑ 𝔘",
      "<s> and </s> and <unk> stay text",
      "\x01\x02 control bytes \x7f",
      "a",
      " ",
  };
  return texts;
}

TEST(Tokenizer, StoriesRoundTrip) {
  for (const std::string& text : round_trip_texts()) {
    const std::vector<TokenId> ids = stories().encode(text, false);
    // decode keeps the space the encoder put in front.
    EXPECT_EQ(stories().decode(ids), " " + text);
    // A stream that starts the text drops it, BOS or not.
    EXPECT_EQ(stream(stories(), ids, true), text);
    EXPECT_EQ(stream(stories(), stories().encode(text, true), true), text);
  }
}

TEST(Tokenizer, StoriesUsesByteFallbackForCjk) {
  const std::vector<TokenId> ids = stories().encode("中文", false);
  int bytes = 0;
  for (TokenId id : ids) bytes += stories().type(id) == TokenType::kByte;
  EXPECT_EQ(bytes, 6);
}

TEST(Tokenizer, InvalidUtf8InputBecomesBytes) {
  for (const std::string text : {"ok\x80y end\xE4\xB8", "caf\xC3", "\xFF"}) {
    EXPECT_EQ(stories().decode(stories().encode(text, false)), " " + text);
  }
  // A lead byte swallows the bytes it announces (llama.cpp splits characters
  // the same way), even those of a following space: no crash, bytes kept.
  const std::vector<TokenId> ids = stories().encode("\xF0 x \xE4", false);
  EXPECT_FALSE(ids.empty());
  for (TokenId id : ids) EXPECT_TRUE(id >= 0 && id < stories().vocab_size());
}

// ---- streaming detokenizer ----------------------------------------------------

class Streaming : public ::testing::Test {
 protected:
  void SetUp() override {
    VocabBuilder v;
    space_a_ = v.add(kMark + "a");
    for (int b : {0xE4, 0xB8, 0xAD, 0xF0, 0x9F, 0x99, 0x82, 0xFF, 0x80}) byte_[b] = v.add_byte(b);
    tail_ = v.add("x\xE4\xB8");  // a piece that itself ends mid-character
    tok_ = must(tokenizer_from(v.metadata()));
    ASSERT_NE(tok_, nullptr);
  }
  std::map<int, TokenId> byte_;
  TokenId space_a_ = -1, tail_ = -1;
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(Streaming, HoldsSplitCharacterUntilComplete) {
  StreamingDetokenizer d(*tok_);
  EXPECT_EQ(d.push(space_a_), " a");
  EXPECT_EQ(d.push(byte_[0xE4]), "");
  EXPECT_EQ(d.push(byte_[0xB8]), "");
  EXPECT_EQ(d.push(byte_[0xAD]), "中");
  EXPECT_EQ(d.push(byte_[0xF0]), "");
  EXPECT_EQ(d.push(byte_[0x9F]), "");
  EXPECT_EQ(d.push(byte_[0x99]), "");
  EXPECT_EQ(d.push(byte_[0x82]), "🙂");
  EXPECT_EQ(d.flush(), "");
}

TEST_F(Streaming, PieceEndingMidCharacter) {
  StreamingDetokenizer d(*tok_);
  EXPECT_EQ(d.push(tail_), "x");
  EXPECT_EQ(d.push(byte_[0xAD]), "中");
}

TEST_F(Streaming, FlushTurnsLeftoversIntoReplacement) {
  StreamingDetokenizer d(*tok_);
  EXPECT_EQ(d.push(byte_[0xF0]), "");
  EXPECT_EQ(d.push(byte_[0x9F]), "");
  EXPECT_EQ(d.flush(), "\uFFFD");
  EXPECT_EQ(d.flush(), "");
}

TEST_F(Streaming, InvalidBytesBecomeReplacement) {
  StreamingDetokenizer d(*tok_);
  EXPECT_EQ(d.push(byte_[0xFF]), "\uFFFD");
  EXPECT_EQ(d.push(byte_[0x80]), "\uFFFD");  // stray continuation byte
  EXPECT_EQ(d.push(byte_[0xE4]), "");
  // The held prefix cannot continue with 'a' (nor with a space): one U+FFFD.
  EXPECT_EQ(d.push(space_a_), "\uFFFD a");
  EXPECT_EQ(d.push(byte_[0xE4]), "");
  EXPECT_EQ(d.push(byte_[0xB8]), "");
  EXPECT_EQ(d.push(byte_[0xF0]), "\uFFFD");  // E4 B8 then a new lead byte
  EXPECT_EQ(d.push(byte_[0x9F]), "");
  EXPECT_EQ(d.push(byte_[0x99]), "");
  EXPECT_EQ(d.push(byte_[0x82]), "🙂");
}

TEST_F(Streaming, RejectsOverlongAndSurrogateForms) {
  VocabBuilder v;
  const TokenId overlong = v.add("\xC0\xAF"), surrogate = v.add("\xED\xA0\x80"),
                big = v.add("\xF4\x90\x80\x80");
  auto tok = must(tokenizer_from(v.metadata()));
  ASSERT_NE(tok, nullptr);
  StreamingDetokenizer d(*tok);
  EXPECT_EQ(d.push(overlong), "\uFFFD\uFFFD");
  EXPECT_EQ(d.push(surrogate), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(d.push(big), "\uFFFD\uFFFD\uFFFD\uFFFD");
}

TEST_F(Streaming, StartOfTextDropsOnlyThePrefixSpace) {
  EXPECT_EQ(stream(*tok_, {1, space_a_, space_a_}, true), "a a");
  EXPECT_EQ(stream(*tok_, {1, space_a_, space_a_}, false), " a a");
}

TEST(StreamingStories, EveryGreedyPrefixIsValidUtf8) {
  // Byte-fallback text streamed token by token equals the whole decode.
  for (const std::string& text : round_trip_texts()) {
    const std::vector<TokenId> ids = stories().encode(text, true);
    StreamingDetokenizer d(stories(), true);
    std::string out;
    for (TokenId id : ids) {
      const std::string piece = d.push(id);
      EXPECT_EQ(piece.find("\uFFFD"), std::string::npos) << text;
      out += piece;
    }
    EXPECT_EQ(out + d.flush(), text);
  }
}

// ---- bad metadata -------------------------------------------------------------

void expect_error(const Metadata& md, const std::string& fragment) {
  auto r = tokenizer_from(md);
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << fragment;
  EXPECT_NE(r.error().find(fragment), std::string::npos) << r.error();
}

TEST(TokenizerErrors, UnsupportedModels) {
  VocabBuilder v;
  for (const std::string model : {"gpt2", "bert", "garbage", ""}) {
    Metadata md = v.metadata();
    set(md, "tokenizer.ggml.model", Value::str(model));
    expect_error(md, "unsupported tokenizer model '" + model + "'");
  }
  Metadata md = v.metadata();
  remove_key(md, "tokenizer.ggml.model");
  expect_error(md, "tokenizer.ggml.model");
  set(md, "tokenizer.ggml.model", Value::u32(1));
  expect_error(md, "tokenizer.ggml.model");
}

TEST(TokenizerErrors, BadArrays) {
  VocabBuilder v;
  Metadata md = v.metadata();
  remove_key(md, "tokenizer.ggml.tokens");
  expect_error(md, "tokenizer.ggml.tokens");
  set(md, "tokenizer.ggml.tokens", Value::i32_array({1, 2, 3}));
  expect_error(md, "tokenizer.ggml.tokens");
  set(md, "tokenizer.ggml.tokens", Value::string_array({}));
  expect_error(md, "empty");

  md = v.metadata();
  set(md, "tokenizer.ggml.scores", Value::f32_array({0, 0}));
  expect_error(md, "tokenizer.ggml.scores has 2 entries");
  set(md, "tokenizer.ggml.scores", Value::string_array({"a", "b", "c"}));
  expect_error(md, "tokenizer.ggml.scores");

  md = v.metadata();
  set(md, "tokenizer.ggml.token_type", Value::i32_array({1, 1, 1, 1}));
  expect_error(md, "tokenizer.ggml.token_type has 4 entries");
  set(md, "tokenizer.ggml.token_type", Value::i32_array({1, 9, 1}));
  expect_error(md, "not a token type");
  set(md, "tokenizer.ggml.token_type", Value::str("x"));
  expect_error(md, "tokenizer.ggml.token_type");
}

TEST(TokenizerErrors, MisspelledByteToken) {
  VocabBuilder v;
  v.add("<0xZZ>", 0.0, TokenType::kByte);
  expect_error(v.metadata(), "byte token 3");
}

TEST(TokenizerErrors, SpecialIdsOutOfRange) {
  VocabBuilder v;
  for (const std::string key : {"bos", "eos", "unknown", "eot", "eom"}) {
    Metadata md = v.metadata();
    set(md, "tokenizer.ggml." + key + "_token_id", Value::u32(3));
    expect_error(md, "outside the vocabulary of 3 tokens");
    set(md, "tokenizer.ggml." + key + "_token_id", Value::i32(-7));
    expect_error(md, "outside the vocabulary");
    set(md, "tokenizer.ggml." + key + "_token_id", Value::str("1"));
    expect_error(md, key + "_token_id");
  }
}

TEST(TokenizerErrors, MistypedFlags) {
  VocabBuilder v;
  Metadata md = v.metadata();
  set(md, "tokenizer.ggml.add_bos_token", Value::str("yes"));
  expect_error(md, "tokenizer.ggml.add_bos_token");
  md = v.metadata();
  set(md, "tokenizer.ggml.add_space_prefix", Value::u32(1));
  expect_error(md, "tokenizer.ggml.add_space_prefix");
}

TEST(TokenizerErrors, OptionalArraysMayBeAbsent) {
  VocabBuilder v;
  const TokenId x = v.add(kMark + "x");
  Metadata md = v.metadata();
  remove_key(md, "tokenizer.ggml.scores");
  remove_key(md, "tokenizer.ggml.token_type");
  remove_key(md, "tokenizer.ggml.bos_token_id");
  auto tok = must(tokenizer_from(md));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->bos(), 1);  // llama.cpp's default
  EXPECT_EQ(tok->encode("x", true), (std::vector<TokenId>{1, x}));
}

// ---- scale --------------------------------------------------------------------

// A 256K-piece vocabulary loads once and encodes long text; the round trip
// checks the merges stayed consistent on a big table.
TEST(TokenizerScale, LargeVocabulary) {
  VocabBuilder v;
  for (int b = 0; b < 256; ++b) v.add_byte(b);
  v.add(kMark);
  std::mt19937 gen(7);
  const std::string letters = "abcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<size_t> letter(0, letters.size() - 1), length(1, 8);
  std::uniform_real_distribution<double> score(-20.0, 0.0);
  std::set<std::string> seen;
  while (v.tokens.size() < 256 * 1024) {
    std::string piece = gen() % 3 == 0 ? kMark : "";
    for (size_t i = length(gen); i > 0; --i) piece += letters[letter(gen)];
    if (seen.insert(piece).second) v.add(piece, score(gen));
  }
  auto tok = must(tokenizer_from(v.metadata()));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab_size(), 256 * 1024);
  std::string text;
  while (text.size() < 200000) {
    for (size_t i = length(gen); i > 0; --i) text += letters[letter(gen)];
    text += gen() % 7 == 0 ? "。" : " ";
  }
  const std::vector<TokenId> ids = tok->encode(text, false);
  EXPECT_LT(ids.size(), text.size() / 2);  // merges happened
  EXPECT_EQ(tok->decode(ids), " " + text);
}

}  // namespace
}  // namespace gs
