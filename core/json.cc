#include "core/json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status.h"

namespace ald::json {

Value::Value() = default;
Value::~Value() = default;
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
Value Value::Object() { return Value(); }
void Value::Add(std::string key, Value value) {
  object.emplace_back(std::move(key), std::move(value));
}

Value Value::String(std::string s) {
  Value value;
  value.kind = Kind::kString;
  value.string = std::move(s);
  return value;
}

Value Value::Integer(int64_t i) {
  Value value;
  value.kind = Kind::kInteger;
  value.integer = i;
  return value;
}

Value Value::IntegerArray(const std::vector<int64_t>& values) {
  Value value;
  value.kind = Kind::kArray;
  for (int64_t v : values) value.array.push_back(Integer(v));
  return value;
}

const char* KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kObject: return "an object";
    case Value::Kind::kArray: return "an array";
    case Value::Kind::kString: return "a string";
    case Value::Kind::kInteger: return "an integer";
  }
  return "unknown";
}

namespace {

constexpr int kMaxDepth = 16;  // a header needs 3; the limit keeps hostile input off the stack

class Parser {
 public:
  Parser(absl::string_view text, size_t position_base) : text_(text), base_(position_base) {}

  absl::StatusOr<Value> ParseDocument() {
    SkipWhitespace();
    ASSIGN_OR_RETURN(Value value, ParseValue(0));
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("unexpected text after the JSON value");
    return value;
  }

 private:
  absl::Status Error(absl::string_view what) const { return ErrorAt(pos_, what); }
  absl::Status ErrorAt(size_t pos, absl::string_view what) const {
    return absl::DataLossError(absl::StrCat("malformed JSON at byte ", base_ + pos, ": ", what));
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  std::string Describe() const {
    if (AtEnd()) return "the end of the text";
    const unsigned char c = static_cast<unsigned char>(Peek());
    if (c >= 0x20 && c < 0x7f) return absl::StrCat("'", std::string(1, Peek()), "'");
    return absl::StrFormat("byte 0x%02x", c);
  }

  void SkipWhitespace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) {
      ++pos_;
    }
  }

  absl::Status Expect(char c) {
    if (AtEnd() || Peek() != c) {
      return Error(absl::StrCat("expected '", std::string(1, c), "', found ", Describe()));
    }
    ++pos_;
    return absl::OkStatus();
  }

  absl::StatusOr<Value> ParseValue(int depth) {
    if (depth > kMaxDepth) return Error(absl::StrCat("nested deeper than ", kMaxDepth));
    if (AtEnd()) return Error("expected a value, found the end of the text");
    const size_t start = pos_;
    absl::StatusOr<Value> value;
    const char c = Peek();
    if (c == '{') {
      value = ParseObject(depth);
    } else if (c == '[') {
      value = ParseArray(depth);
    } else if (c == '"') {
      ASSIGN_OR_RETURN(std::string s, ParseString());
      value = Value::String(std::move(s));
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      value = ParseInteger();
    } else {
      return Error(
          absl::StrCat("expected an object, array, string or integer, found ", Describe()));
    }
    if (value.ok()) value->position = base_ + start;
    return value;
  }

  absl::StatusOr<Value> ParseObject(int depth) {
    Value object = Value::Object();
    ++pos_;  // '{'
    SkipWhitespace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return object;
    }
    while (true) {
      SkipWhitespace();
      const size_t key_pos = pos_;
      if (AtEnd() || Peek() != '"') {
        return Error(absl::StrCat("expected a key, found ", Describe()));
      }
      ASSIGN_OR_RETURN(std::string key, ParseString());
      for (const auto& member : object.object) {
        if (member.first == key) {
          return ErrorAt(key_pos, absl::StrCat("duplicate key ", Quote(key)));
        }
      }
      SkipWhitespace();
      RETURN_IF_ERROR(Expect(':'));
      SkipWhitespace();
      ASSIGN_OR_RETURN(Value member, ParseValue(depth + 1));
      object.Add(std::move(key), std::move(member));
      SkipWhitespace();
      if (!AtEnd() && Peek() == ',') {
        ++pos_;
        continue;
      }
      RETURN_IF_ERROR(Expect('}'));
      return object;
    }
  }

  absl::StatusOr<Value> ParseArray(int depth) {
    Value array;
    array.kind = Value::Kind::kArray;
    ++pos_;  // '['
    SkipWhitespace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return array;
    }
    while (true) {
      SkipWhitespace();
      ASSIGN_OR_RETURN(Value element, ParseValue(depth + 1));
      array.array.push_back(std::move(element));
      SkipWhitespace();
      if (!AtEnd() && Peek() == ',') {
        ++pos_;
        continue;
      }
      RETURN_IF_ERROR(Expect(']'));
      return array;
    }
  }

  // RFC 8259 integers: -?(0|[1-9][0-9]*), within int64.
  absl::StatusOr<Value> ParseInteger() {
    const size_t start = pos_;
    const bool negative = Peek() == '-';
    if (negative) ++pos_;
    if (AtEnd() || Peek() < '0' || Peek() > '9') {
      return Error(absl::StrCat("expected a digit, found ", Describe()));
    }
    if (Peek() == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' &&
        text_[pos_ + 1] <= '9') {
      return Error("leading zeros are not allowed");
    }
    // Accumulate negatively so that INT64_MIN parses too.
    int64_t value = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      const int digit = Peek() - '0';
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_sub_overflow(value, digit, &value)) {
        return ErrorAt(start, "integer out of the 64-bit range");
      }
      ++pos_;
    }
    if (!negative) {
      if (value == INT64_MIN) return ErrorAt(start, "integer out of the 64-bit range");
      value = -value;
    }
    if (!AtEnd() && (Peek() == '.' || Peek() == 'e' || Peek() == 'E')) {
      return Error("only integers are allowed (no fraction or exponent)");
    }
    return Value::Integer(value);
  }

  absl::StatusOr<uint32_t> ParseHex4() {
    if (text_.size() - pos_ < 4) return Error("truncated \\u escape");
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = Peek();
      uint32_t digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return Error(absl::StrCat("expected a hex digit, found ", Describe()));
      }
      code = code * 16 + digit;
      ++pos_;
    }
    return code;
  }

  static void AppendUtf8(uint32_t code, std::string& out) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
  }

  // After a backslash: one escape, appended to `out` as UTF-8.
  absl::Status ParseEscape(std::string& out) {
    if (AtEnd()) return Error("truncated escape");
    const char c = Peek();
    ++pos_;
    switch (c) {
      case '"': out += '"'; return absl::OkStatus();
      case '\\': out += '\\'; return absl::OkStatus();
      case '/': out += '/'; return absl::OkStatus();
      case 'b': out += '\b'; return absl::OkStatus();
      case 'f': out += '\f'; return absl::OkStatus();
      case 'n': out += '\n'; return absl::OkStatus();
      case 'r': out += '\r'; return absl::OkStatus();
      case 't': out += '\t'; return absl::OkStatus();
      case 'u': break;
      default: --pos_; return Error(absl::StrCat("unknown escape \\", Describe()));
    }
    const size_t escape_pos = pos_ - 2;
    ASSIGN_OR_RETURN(uint32_t code, ParseHex4());
    if (code >= 0xdc00 && code <= 0xdfff) return ErrorAt(escape_pos, "lone low surrogate");
    if (code >= 0xd800 && code <= 0xdbff) {
      if (text_.size() - pos_ < 2 || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
        return ErrorAt(escape_pos, "high surrogate without a low surrogate");
      }
      pos_ += 2;
      ASSIGN_OR_RETURN(uint32_t low, ParseHex4());
      if (low < 0xdc00 || low > 0xdfff) {
        return ErrorAt(escape_pos, "high surrogate without a low surrogate");
      }
      code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
    }
    AppendUtf8(code, out);
    return absl::OkStatus();
  }

  // Length of the valid UTF-8 sequence at pos_ (no overlongs, surrogates or code points past
  // U+10FFFF), or 0.
  size_t Utf8SequenceLength() const {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text_[pos_ + i]); };
    const unsigned char lead = byte(0);
    size_t length;
    uint32_t code;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2, code = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3, code = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4, code = lead & 0x07;
    } else {
      return 0;
    }
    if (text_.size() - pos_ < length) return 0;
    for (size_t i = 1; i < length; ++i) {
      if ((byte(i) & 0xc0) != 0x80) return 0;
      code = (code << 6) | (byte(i) & 0x3f);
    }
    const uint32_t smallest = length == 3 ? 0x800 : 0x10000;
    if (length > 2 && code < smallest) return 0;
    if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return 0;
    return length;
  }

  absl::StatusOr<std::string> ParseString() {
    const size_t start = pos_;
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (AtEnd()) return ErrorAt(start, "unterminated string");
      const unsigned char c = static_cast<unsigned char>(Peek());
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        ++pos_;
        RETURN_IF_ERROR(ParseEscape(out));
      } else if (c < 0x20) {
        return Error(absl::StrFormat("unescaped control character 0x%02x in a string", c));
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        const size_t length = Utf8SequenceLength();
        if (length == 0) return Error("invalid UTF-8 in a string");
        out.append(text_.data() + pos_, length);
        pos_ += length;
      }
    }
  }

  absl::string_view text_;
  size_t base_;
  size_t pos_ = 0;
};

void SerializeTo(const Value& value, std::string& out) {
  switch (value.kind) {
    case Value::Kind::kString: out += Quote(value.string); return;
    case Value::Kind::kInteger: absl::StrAppend(&out, value.integer); return;
    case Value::Kind::kArray:
      out += '[';
      for (size_t i = 0; i < value.array.size(); ++i) {
        if (i > 0) out += ',';
        SerializeTo(value.array[i], out);
      }
      out += ']';
      return;
    case Value::Kind::kObject:
      out += '{';
      for (size_t i = 0; i < value.object.size(); ++i) {
        if (i > 0) out += ',';
        out += Quote(value.object[i].first);
        out += ':';
        SerializeTo(value.object[i].second, out);
      }
      out += '}';
      return;
  }
}

}  // namespace

absl::StatusOr<Value> Parse(absl::string_view text, size_t position_base) {
  return Parser(text, position_base).ParseDocument();
}

std::string Serialize(const Value& value) {
  std::string out;
  SerializeTo(value, out);
  return out;
}

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace ald::json
