#include "template/lexer.h"

#include <algorithm>
#include <array>

#include "template/text.h"

namespace gs::tmpl {

Status error_at(Pos pos, std::string_view message) {
  return Error("line {}, column {}: {}", pos.line, pos.col, message);
}

bool has_position(const Status& status) {
  const std::string& m = status.message();
  if (m.rfind("line ", 0) != 0) return false;
  size_t i = 5;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9') ++i;
  return i > 5 && m.compare(i, 9, ", column ") == 0;
}

Status at(Pos pos, Status status) {
  if (status.ok() || has_position(status)) return status;
  return error_at(pos, status.message());
}

namespace {

// Source text after the whitespace pre-pass, with each byte's offset in the
// original source (so errors point at what the author wrote).
struct Mapped {
  std::string text;
  std::vector<uint32_t> origin;

  void push(char c, uint32_t from) {
    text.push_back(c);
    origin.push_back(from);
  }
};

bool is_line_start(const std::string& s, size_t i) {
  if (i == 0) return true;
  const char p = s[i - 1];
  if (p == '\n' || p == '\r') return true;
  // U+2028 / U+2029 also start a line for the reference's /^/m.
  return i >= 3 && s.compare(i - 3, 2, "\xE2\x80") == 0 && (s[i - 1] == '\xA8' || s[i - 1] == '\xA9');
}

// lstrip_blocks: spaces and tabs before {% {# at the start of a line go.
Mapped lstrip_blocks(const Mapped& in) {
  Mapped out;
  const std::string& s = in.text;
  for (size_t i = 0; i < s.size();) {
    if (is_line_start(s, i)) {
      size_t j = i;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      if (j > i && j + 1 < s.size() && s[j] == '{' &&
          (s[j + 1] == '%' || s[j + 1] == '#' || s[j + 1] == '-')) {
        i = j;
      }
    }
    out.push(s[i], in.origin[i]);
    ++i;
  }
  return out;
}

// trim_blocks: the first newline after %} or #} goes.
Mapped trim_blocks(const Mapped& in) {
  Mapped out;
  const std::string& s = in.text;
  for (size_t i = 0; i < s.size(); ++i) {
    out.push(s[i], in.origin[i]);
    if (s[i] == '}' && i > 0 && (s[i - 1] == '%' || s[i - 1] == '#' || s[i - 1] == '-') && i + 1 < s.size() &&
        s[i + 1] == '\n') {
      ++i;
    }
  }
  return out;
}

size_t space_run_end(const std::string& s, size_t i) {
  size_t len = 0;
  while (i < s.size() && text::is_space(text::decode(s, i, &len))) i += len;
  return i;
}

// Matches {% generation %} / {% endgeneration %} (with optional -) at i;
// returns its end and whether each side strips.
bool match_generation_tag(const std::string& s, size_t i, size_t* end, bool* strip_left, bool* strip_right) {
  if (s.compare(i, 2, "{%") != 0) return false;
  size_t j = i + 2;
  *strip_left = j < s.size() && s[j] == '-';
  if (*strip_left) ++j;
  j = space_run_end(s, j);
  if (s.compare(j, 3, "end") == 0) j += 3;
  if (s.compare(j, 10, "generation") != 0) return false;
  j = space_run_end(s, j + 10);
  *strip_right = j < s.size() && s[j] == '-';
  if (*strip_right) ++j;
  if (s.compare(j, 2, "%}") != 0) return false;
  *end = j + 2;
  return true;
}

// transformers' {% generation %} markers only delimit training masks: drop
// them, and the white space a - on their side asks for.
Mapped drop_generation_tags(const Mapped& in) {
  Mapped out;
  const std::string& s = in.text;
  for (size_t i = 0; i < s.size();) {
    size_t end = 0;
    bool strip_left = false, strip_right = false;
    if (s[i] == '{' && match_generation_tag(s, i, &end, &strip_left, &strip_right)) {
      if (strip_left) {
        while (!out.text.empty()) {
          std::string_view kept = text::trim(out.text, false, true);
          if (kept.size() == out.text.size()) break;
          out.text.resize(kept.size());
          out.origin.resize(kept.size());
        }
      }
      i = strip_right ? space_run_end(s, end) : end;
      continue;
    }
    out.push(s[i], in.origin[i]);
    ++i;
  }
  return out;
}

Mapped preprocess(std::string_view source) {
  Mapped m;
  size_t n = source.size();
  if (n > 0 && source[n - 1] == '\n') --n;  // one trailing newline is not output
  m.text.assign(source.substr(0, n));
  m.origin.resize(n);
  for (size_t i = 0; i < n; ++i) m.origin[i] = static_cast<uint32_t>(i);
  return drop_generation_tags(trim_blocks(lstrip_blocks(m)));
}

// Operators and punctuation, longest first where one is a prefix of another.
constexpr std::array<std::string_view, 25> kOps = {"<=", ">=", "==", "!=", "**", "//", "(", ")", "{",
                                                   "}",  "[",  "]",  ",",  ".",  ":",  "|", "<", ">",
                                                   "+",  "-",  "~",  "*",  "/",  "%",  "="};

class Lexer {
 public:
  Lexer(std::string_view source, Mapped mapped) : source_(source), m_(std::move(mapped)), s_(m_.text) {
    for (size_t i = 0; i < source_.size(); ++i) {
      if (source_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  Result<std::vector<Token>> run();

 private:
  Pos pos_of(size_t i) const;
  Status fail(size_t i, std::string_view message) const { return error_at(pos_of(i), message); }
  bool in_text_mode() const;
  void push(Tok type, std::string value, size_t at) {
    tokens_.push_back({type, std::move(value), pos_of(at)});
  }
  bool starts(std::string_view what) const { return s_.compare(i_, what.size(), what) == 0; }
  void strip_previous_text();
  void skip_space() { i_ = space_run_end(s_, i_); }
  void lex_text();
  Status lex_comment();
  Status lex_tag_token();
  Status lex_string();
  void lex_number(size_t start, std::string prefix);
  bool previous_ends_operand() const;

  std::string_view source_;
  Mapped m_;
  const std::string& s_;
  std::vector<size_t> line_starts_ = {0};
  std::vector<Token> tokens_;
  size_t i_ = 0;
  int curly_depth_ = 0;  // inside a {...} literal "}}" is two braces, not the tag end
  bool after_comment_ = false;
};

Pos Lexer::pos_of(size_t i) const {
  const size_t off = i < m_.origin.size() ? m_.origin[i] : source_.size();
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off) - 1;
  const size_t col = text::char_count(source_.substr(*it, off - *it));
  return {static_cast<int>(it - line_starts_.begin()) + 1, static_cast<int>(col) + 1};
}

bool Lexer::in_text_mode() const {
  if (tokens_.empty() || after_comment_) return true;
  const Tok t = tokens_.back().type;
  return t == Tok::kCloseStatement || t == Tok::kCloseExpression;
}

void Lexer::strip_previous_text() {
  if (tokens_.empty() || tokens_.back().type != Tok::kText || after_comment_) return;
  std::string& t = tokens_.back().value;
  t.resize(text::trim(t, false, true).size());
  if (t.empty()) tokens_.pop_back();
}

void Lexer::lex_text() {
  const size_t start = i_;
  while (i_ < s_.size() && !(s_[i_] == '{' && i_ + 1 < s_.size() &&
                             (s_[i_ + 1] == '%' || s_[i_ + 1] == '{' || s_[i_ + 1] == '#'))) {
    ++i_;
  }
  if (i_ > start) {
    push(Tok::kText, s_.substr(start, i_ - start), start);
    after_comment_ = false;
  }
}

Status Lexer::lex_comment() {
  const size_t start = i_;
  i_ += 2;
  const bool strip_before = i_ < s_.size() && s_[i_] == '-';
  const size_t end = s_.find("#}", i_);
  if (end == std::string::npos) return fail(start, "comment is not closed with #}");
  const bool strip_after = end > i_ && s_[end - 1] == '-';
  if (strip_before) strip_previous_text();
  i_ = end + 2;
  if (strip_after) skip_space();
  after_comment_ = true;
  return Status::Ok();
}

bool Lexer::previous_ends_operand() const {
  if (tokens_.empty()) return false;
  const Token& t = tokens_.back();
  return t.type == Tok::kIdent || t.type == Tok::kNumber || t.type == Tok::kString ||
         (t.type == Tok::kOp && (t.value == ")" || t.value == "]"));
}

Status Lexer::lex_string() {
  const size_t start = i_;
  const char quote = s_[i_++];
  std::string value;
  while (i_ < s_.size() && s_[i_] != quote) {
    if (s_[i_] != '\\') {
      value.push_back(s_[i_++]);
      continue;
    }
    if (++i_ >= s_.size()) break;
    const char e = s_[i_++];
    if (e == 'x' || e == 'u') {
      const size_t digits = e == 'x' ? 2 : 4;
      if (i_ + digits > s_.size()) return fail(i_ - 2, "bad hexadecimal escape in string");
      char32_t cp = 0;
      for (size_t k = 0; k < digits; ++k) {
        const char h = s_[i_ + k];
        const int d = h >= '0' && h <= '9'   ? h - '0'
                      : h >= 'a' && h <= 'f' ? h - 'a' + 10
                      : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                             : -1;
        if (d < 0) return fail(i_ - 2, "bad hexadecimal escape in string");
        cp = cp * 16 + static_cast<char32_t>(d);
      }
      i_ += digits;
      text::append_utf8(&value, cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);
      continue;
    }
    static constexpr std::string_view kFrom = "ntrbfv'\"\\", kTo = "\n\t\r\b\f\v'\"\\";
    const size_t k = kFrom.find(e);
    if (k == std::string_view::npos) return fail(i_ - 2, fmt::format("unknown escape \\{} in string", e));
    value.push_back(kTo[k]);
  }
  if (i_ >= s_.size()) return fail(start, "string is not closed");
  ++i_;
  push(Tok::kString, std::move(value), start);
  return Status::Ok();
}

void Lexer::lex_number(size_t start, std::string prefix) {
  const auto digit = [&](size_t k) { return k < s_.size() && s_[k] >= '0' && s_[k] <= '9'; };
  std::string num = std::move(prefix);
  while (digit(i_)) num.push_back(s_[i_++]);
  const bool after_dot = !tokens_.empty() && tokens_.back().type == Tok::kOp && tokens_.back().value == ".";
  if (!after_dot && i_ < s_.size() && s_[i_] == '.' && digit(i_ + 1)) {
    num.push_back(s_[i_++]);
    while (digit(i_)) num.push_back(s_[i_++]);
  }
  push(Tok::kNumber, std::move(num), start);
}

Status Lexer::lex_tag_token() {
  if (starts("{%-") || starts("{{-")) {
    strip_previous_text();
    push(s_[i_ + 1] == '%' ? Tok::kOpenStatement : Tok::kOpenExpression, s_.substr(i_, 2), i_);
    if (s_[i_ + 1] == '{') curly_depth_ = 0;
    i_ += 3;
    return Status::Ok();
  }
  skip_space();
  if (i_ >= s_.size()) return Status::Ok();
  if (starts("-%}") || starts("-}}")) {
    push(s_[i_ + 1] == '%' ? Tok::kCloseStatement : Tok::kCloseExpression, s_.substr(i_ + 1, 2), i_);
    i_ += 3;
    skip_space();
    return Status::Ok();
  }
  const size_t start = i_;
  const char c = s_[i_];
  if ((c == '-' || c == '+') && !previous_ends_operand()) {
    if (tokens_.empty() || tokens_.back().type == Tok::kText)
      return fail(i_, fmt::format("unexpected '{}'", c));
    ++i_;
    if (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      lex_number(start, std::string(1, c));
    } else {
      push(Tok::kUnary, std::string(1, c), start);
    }
    return Status::Ok();
  }
  for (std::string_view tag : {"{%", "%}", "{{", "}}"}) {
    if (!starts(tag) || (tag == "}}" && curly_depth_ > 0)) continue;
    const Tok t = tag == "{%"   ? Tok::kOpenStatement
                  : tag == "%}" ? Tok::kCloseStatement
                  : tag == "{{" ? Tok::kOpenExpression
                                : Tok::kCloseExpression;
    if (t == Tok::kOpenExpression) curly_depth_ = 0;
    push(t, std::string(tag), start);
    i_ += 2;
    return Status::Ok();
  }
  for (std::string_view op : kOps) {
    if (!starts(op)) continue;
    if (op == "{") ++curly_depth_;
    if (op == "}") --curly_depth_;
    push(Tok::kOp, std::string(op), start);
    i_ += op.size();
    return Status::Ok();
  }
  if (c == '\'' || c == '"') return lex_string();
  if (c >= '0' && c <= '9') {
    lex_number(start, "");
    return Status::Ok();
  }
  const auto word = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
  };
  if (word(c)) {
    while (i_ < s_.size() && word(s_[i_])) ++i_;
    push(Tok::kIdent, s_.substr(start, i_ - start), start);
    return Status::Ok();
  }
  size_t len = 0;
  const char32_t cp = text::decode(s_, i_, &len);
  std::string shown;
  text::append_utf8(&shown, cp);
  return fail(i_, fmt::format("unexpected character '{}'", shown));
}

Result<std::vector<Token>> Lexer::run() {
  while (i_ < s_.size()) {
    if (in_text_mode()) {
      const size_t before = i_;
      lex_text();
      if (i_ != before) continue;
    }
    if (starts("{#")) {
      GS_RETURN_IF_ERROR(lex_comment());
      continue;
    }
    const bool was_text_mode = in_text_mode();
    GS_RETURN_IF_ERROR(lex_tag_token());
    if (was_text_mode) after_comment_ = false;
  }
  return std::move(tokens_);
}

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source) {
  Lexer lexer(source, preprocess(source));
  return lexer.run();
}

}  // namespace gs::tmpl
