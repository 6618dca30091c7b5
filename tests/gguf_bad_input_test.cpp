// The GGUF reader on broken and hostile input: every case must end in a
// one-line error, never a crash, a hang or a huge allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "gguf/gguf.h"
#include "test_util.h"

namespace gs::gguf {
namespace {

// Little-endian GGUF pieces, assembled by hand so each test can break
// exactly one thing.
class Bytes {
 public:
  Bytes& u8(uint8_t v) { return raw(&v, 1); }
  Bytes& u32(uint32_t v) { return raw(&v, 4); }
  Bytes& u64(uint64_t v) { return raw(&v, 8); }
  Bytes& f32(float v) { return raw(&v, 4); }
  Bytes& str(std::string_view s) { return u64(s.size()).raw(s.data(), s.size()); }
  Bytes& raw(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    data.insert(data.end(), b, b + n);
    return *this;
  }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  }
  Bytes& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  Bytes& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  // Pads to `alignment` and appends `n` bytes of tensor data.
  Bytes& data_section(size_t n, size_t alignment = 32) {
    data.resize((data.size() + alignment - 1) / alignment * alignment, 0);
    data.resize(data.size() + n, 0x5a);
    return *this;
  }

  std::vector<uint8_t> data;
};

constexpr uint32_t kF32 = 0, kQ4_0 = 2;

// Copies the input to its own heap block so ASan catches any read past it.
Result<std::unique_ptr<File>> parse_copy(const uint8_t* p, size_t n) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[n ? n : 1]);
  if (n) std::memcpy(copy.get(), p, n);
  auto f = File::parse(copy.get(), n);
  EXPECT_FALSE(f.ok() && !(*f)->tensors().empty()) << "a parsed File would outlive its buffer here";
  return f;
}

void expect_one_line(const std::string& msg) {
  EXPECT_FALSE(msg.empty());
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

void expect_error(const Bytes& b, const std::string& needle) {
  auto f = parse_copy(b.data.data(), b.data.size());
  ASSERT_FALSE(f.ok()) << "expected an error containing: " << needle;
  expect_one_line(f.error());
  EXPECT_NE(f.error().find(needle), std::string::npos) << "got: " << f.error() << "\nwanted: " << needle;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(GgufBadInput, BuilderMakesAValidFile) {
  Bytes b;
  b.header(2, 2).kv_u32("general.alignment", 32).str("s").u32(8).str("text");
  b.tensor("a", {8}, kF32, 0).tensor("b", {32, 2}, kQ4_0, 32).data_section(32 + 36);
  auto f = File::parse(b.data.data(), b.data.size());
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ((*f)->tensors().size(), 2u);
  EXPECT_EQ((*f)->tensor("b")->size_bytes, 36u);
}

TEST(GgufBadInput, HeaderErrors) {
  expect_error(Bytes(), "truncated file: magic");
  expect_error(Bytes().raw("GGU", 3), "truncated file: magic needs 4 bytes at offset 0, 3 left");
  expect_error(Bytes().raw("GGML", 4).u32(3).u64(0).u64(0), "bad magic 0x47474d4c: not a GGUF file");
  expect_error(Bytes().header(0, 0, 1), "GGUF version 1 is not supported");
  expect_error(Bytes().header(0, 0, 4), "unsupported GGUF version 4");
  expect_error(Bytes().header(0, 0, 0x03000000), "big-endian GGUF files are not supported");
  expect_error(Bytes().raw("GGUF", 4).u32(3).u64(0), "truncated file: metadata count");
}

TEST(GgufBadInput, ImpossibleCounts) {
  expect_error(Bytes().header(0, uint64_t{1} << 62).data_section(64), "metadata count 4611686018427387904");
  expect_error(Bytes().header(uint64_t{1} << 62, 0).data_section(64), "tensor count 4611686018427387904");
  expect_error(Bytes().header(~uint64_t{0}, ~uint64_t{0}), "is impossible for a file of 24 bytes");
  expect_error(Bytes().header(3, 3).data_section(100), "cannot fit in a file of");
}

TEST(GgufBadInput, HugeLengthsDoNotAllocate) {
  expect_error(Bytes().header(0, 1).u64(uint64_t{1} << 60).data_section(64),
               "metadata entry #0: key length 1152921504606846976 at offset 24 exceeds");
  expect_error(Bytes().header(0, 1).str("k").u32(8).u64(~uint64_t{0}).data_section(64),
               "metadata key 'k': string length 18446744073709551615");
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(4).u64(uint64_t{1} << 40).data_section(64),
               "metadata key 'k': array of 1099511627776 uint32 values exceeds");
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(8).u64(uint64_t{1} << 61).data_section(64),
               "array of 2305843009213693952 string values exceeds");
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(9).u64(uint64_t{1} << 50).data_section(64),
               "array of 1125899906842624 array values exceeds");
  expect_error(Bytes().header(1, 0).u64(uint64_t{1} << 62).data_section(64), "tensor #0: tensor name length");
  // A count the file could hold but no real vocabulary needs.
  Bytes big;
  big.header(0, 1).str("k").u32(9).u32(0).u64((uint64_t{1} << 24) + 1).data_section((size_t{1} << 24) + 1);
  expect_error(big, "array length 16777217 exceeds the limit of 16777216");
}

TEST(GgufBadInput, MetadataErrors) {
  expect_error(Bytes().header(0, 1).str("k").u32(13).u32(0).data_section(8),
               "metadata key 'k': unknown value type 13");
  expect_error(Bytes().header(0, 1).str("k").u32(9).u32(77).u64(1).data_section(8),
               "metadata key 'k': unknown array element type 77");
  expect_error(Bytes().header(0, 1).str("k").u32(7).u8(2).data_section(8),
               "bool value 2 at offset 37 is not 0 or 1");
  expect_error(Bytes().header(0, 2).kv_u32("a", 1).kv_u32("a", 2).data_section(8),
               "duplicate metadata key 'a'");
  expect_error(Bytes().header(0, 2).kv_u32("a\nb", 1).kv_u32("a\nb", 2).data_section(8),
               "duplicate metadata key 'a\\x0ab'");
  Bytes deep;
  deep.header(0, 1).str("deep").u32(9);
  for (int i = 0; i < 20; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0).data_section(64);
  expect_error(deep, "metadata key 'deep': arrays nested deeper than 8");
  // Truncated inside a value: the key is named.
  expect_error(Bytes().header(0, 1).str("llama.block_count").u32(10).u32(5),
               "metadata key 'llama.block_count': truncated file: uint64 needs 8 bytes");
}

TEST(GgufBadInput, AlignmentErrors) {
  expect_error(Bytes().header(0, 1).kv_u32("general.alignment", 0).data_section(8),
               "general.alignment is 0, must be a nonzero power of two");
  expect_error(Bytes().header(0, 1).kv_u32("general.alignment", 48).data_section(8),
               "general.alignment is 48, must be a nonzero power of two");
  expect_error(Bytes().header(0, 1).str("general.alignment").u32(8).str("32").data_section(8),
               "general.alignment has type string, expected uint32");
  Bytes misaligned;
  misaligned.header(1, 1).kv_u32("general.alignment", 64).tensor("t", {8}, kF32, 32).data_section(128, 64);
  expect_error(misaligned, "tensor 't': data offset 32 is not a multiple of the alignment 64");
}

TEST(GgufBadInput, TensorShapeErrors) {
  auto one = [](std::vector<uint64_t> dims, uint32_t type = kF32, uint64_t offset = 0) {
    Bytes b;
    b.header(1, 0).tensor("w", std::move(dims), type, offset).data_section(256);
    return b;
  };
  expect_error(one({}), "tensor 'w': 0 dimensions (expected 1 to 4)");
  expect_error(one({1, 1, 1, 1, 1}), "tensor 'w': 5 dimensions (expected 1 to 4)");
  expect_error(one({8, 0}), "tensor 'w': dimension 1 is 0 (must be positive)");
  expect_error(one({~uint64_t{0} - 4}), "tensor 'w': dimension 0 is -5 (must be positive)");
  expect_error(one({uint64_t{1} << 40, uint64_t{1} << 40}), "tensor 'w': element count overflows int64");
  expect_error(one({uint64_t{1} << 62, 1, 2, 2}), "element count overflows");
  expect_error(one({8}, 99), "tensor 'w': unknown tensor type 99");
  expect_error(one({8}, 4), "tensor 'w': unknown tensor type 4");  // ids ggml retired
  expect_error(one({33, 2}, kQ4_0), "tensor 'w': row length 33 is not a multiple of the q4_0 block size 32");
  expect_error(one({8}, kF32, 4), "tensor 'w': data offset 4 is not a multiple of the alignment 32");
}

TEST(GgufBadInput, TensorPlacementErrors) {
  expect_error(Bytes().header(1, 0).tensor("w", {8}, kF32, 256).data_section(256),
               "tensor 'w': data [256, +32) extends past the end of the file (256 bytes of tensor data)");
  expect_error(Bytes().header(1, 0).tensor("w", {8}, kF32, ~uint64_t{0} - 31).data_section(256),
               "extends past the end");
  expect_error(Bytes().header(1, 0).tensor("w", {65}, kF32, 0).data_section(256), "extends past the end");
  // Header complete but no data section at all.
  Bytes no_data;
  no_data.header(1, 0).tensor("w", {8}, kF32, 0);
  expect_error(no_data, "tensor data would start at offset 64, past the end (57 bytes)");
  Bytes overlap;
  overlap.header(3, 0).tensor("a", {8}, kF32, 0).tensor("b", {16}, kF32, 64).tensor("c", {8}, kF32, 96);
  expect_error(overlap.data_section(256), "tensors 'b' and 'c' overlap (data at [64, 128) and [96, 128))");
  Bytes same;
  same.header(2, 0).tensor("a", {8}, kF32, 0).tensor("b", {8}, kF32, 0).data_section(64);
  expect_error(same, "tensors 'a' and 'b' overlap");
  Bytes dup;
  dup.header(2, 0).tensor("w", {8}, kF32, 0).tensor("w", {8}, kF32, 32).data_section(64);
  expect_error(dup, "duplicate tensor name 'w'");
}

TEST(GgufBadInput, GetterErrorsAreOneLine) {
  Bytes b;
  b.header(0, 2).str("big").u32(10).u64(~uint64_t{0}).str("two\nlines").u32(8).str("s");
  auto f = File::parse(b.data.data(), b.data.size());
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ((*f)->get_int("big").error(),
            "metadata key 'big' value 18446744073709551615 does not fit in int64");
  EXPECT_EQ((*f)->get_int("two\nlines").error(),
            "metadata key 'two\\x0alines' has type string, expected integer");
  EXPECT_EQ((*f)->get_string("no\nsuch").error(), "missing metadata key 'no\\x0asuch'");
}

class GgufRealFile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    bytes_ = new std::vector<uint8_t>(read_bytes(test::shared_path("models/stories260K.gguf")));
    auto f = File::parse(bytes_->data(), bytes_->size());
    ASSERT_TRUE(f.ok()) << f.error();
    header_end_ = (*f)->data_offset();
    for (const TensorInfo& t : (*f)->tensors())
      data_end_ = std::max(data_end_, header_end_ + t.offset + t.size_bytes);
  }
  static void TearDownTestSuite() { delete bytes_; }

  static std::vector<uint8_t>* bytes_;
  static size_t header_end_;
  static size_t data_end_;  // end of the last tensor's bytes: shorter prefixes are truncated
};
std::vector<uint8_t>* GgufRealFile::bytes_ = nullptr;
size_t GgufRealFile::header_end_ = 0;
size_t GgufRealFile::data_end_ = 0;

TEST_F(GgufRealFile, EveryTruncationIsAnError) {
  ASSERT_GT(header_end_, 1000u);
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= header_end_; ++n) lengths.push_back(n);  // every length within the header
  for (size_t n = header_end_; n < data_end_; n += 4099) lengths.push_back(n);
  lengths.push_back(data_end_ - 1);
  for (size_t n : lengths) {
    auto f = parse_copy(bytes_->data(), n);
    ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes parsed";
    expect_one_line(f.error());
    if (n >= header_end_) {
      EXPECT_NE(f.error().find("past the end"), std::string::npos) << n << ": " << f.error();
    }
  }
}

TEST_F(GgufRealFile, RandomBitFlipsNeverCrash) {
  std::mt19937_64 rng(20240611);
  std::vector<uint8_t>& bytes = *bytes_;
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    // Mostly the header, where the parser looks; sometimes anywhere.
    size_t limit = iter % 4 == 0 ? bytes.size() : header_end_;
    std::vector<std::pair<size_t, uint8_t>> flips;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
      size_t pos = rng() % limit;
      uint8_t mask = static_cast<uint8_t>(1u << (rng() % 8));
      bytes[pos] ^= mask;
      flips.emplace_back(pos, mask);
    }
    auto f = File::parse(bytes.data(), bytes.size());
    if (f.ok()) {
      ++parsed;
      for (const TensorInfo& t : (*f)->tensors()) {
        ASSERT_GE(t.data, bytes.data());
        ASSERT_LE(t.data + t.size_bytes, bytes.data() + bytes.size());
      }
    } else {
      ++rejected;
      expect_one_line(f.error());
    }
    for (auto it = flips.rbegin(); it != flips.rend(); ++it) bytes[it->first] ^= it->second;
  }
  EXPECT_GT(rejected, 500);  // the flips do reach checked fields
  EXPECT_GT(parsed, 500);    // flips in tensor data and string bodies are harmless
}

}  // namespace
}  // namespace gs::gguf
