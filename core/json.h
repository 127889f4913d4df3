// The JSON of a safetensors header: a strict parser and a compact writer for the subset the
// format uses (objects, strings, integers, arrays), and the string quoting traces use.
// Hand-written rather than a library because the subset is tiny and fixed, no JSON library is in
// the build, and strictness is the point: a checkpoint header that is not exactly well-formed is
// refused with the byte where it goes wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ald::json {

struct Value {
  enum class Kind { kObject, kArray, kString, kInteger };

  Kind kind = Kind::kObject;
  std::string string;
  int64_t integer = 0;
  std::vector<Value> array;
  // Members in document order (a header's tensor order is the file's); keys are unique.
  std::vector<std::pair<std::string, Value>> object;
  size_t position = 0;  // where the value starts in the parsed text, for error messages

  // Defined in json.cc, where Value is complete: clang with libstdc++ rejects instantiating
  // std::pair<std::string, Value> inside the class (the fuzz harnesses build with clang).
  Value();
  ~Value();
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;

  static Value String(std::string s);
  static Value Integer(int64_t i);
  static Value IntegerArray(const std::vector<int64_t>& values);
  static Value Object();
  void Add(std::string key, Value value);
};

const char* KindName(Value::Kind kind);  // "an object", "a string", ...

// Parses `text`: one value, surrounded by optional whitespace, nothing else. Rejects what the
// header never holds (floats, true/false/null), duplicate keys, invalid UTF-8, lone surrogates
// and nesting deeper than 16. Errors say "at byte N" with N = `position_base` + the offset in
// `text`, so a caller can report positions in its own file.
absl::StatusOr<Value> Parse(absl::string_view text, size_t position_base = 0);

// The compact form (no spaces), as the reference implementation writes headers.
std::string Serialize(const Value& value);

// `s` as a JSON string literal: quotes, backslash escapes, control characters as \u00XX.
std::string Quote(absl::string_view s);

}  // namespace ald::json
