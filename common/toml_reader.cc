#include "common/toml_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/read_file.h"
#include "common/units.h"

namespace cairn {
namespace {

int position(toml::source_index index) {
  return index > static_cast<toml::source_index>(INT32_MAX) ? 0 : static_cast<int>(index);
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// adjacent characters ("exce" -> "exec" is one edit) each count one.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// toml++ 3.3 reaches __builtin_unreachable() (undefined behaviour) when it classifies some
// non-ASCII code points (U+00A1..U+0499, U+FB06..U+FEFE) as whitespace or not: that happens
// for such characters outside strings and comments, and in multi-line basic strings right
// after a backslash. TOML allows non-ASCII only inside strings and comments anyway, so this
// scan rejects the others with a position before toml++ sees them. Found by fuzzing.
struct Unsupported {
  int line = 0;
  int column = 0;
  const char* message = nullptr;
};

std::optional<Unsupported> find_unsupported_byte(std::string_view text) {
  enum class State { Normal, Comment, Basic, Literal, MultiBasic, MultiLiteral };
  State state = State::Normal;
  int line = 1, column = 0;
  size_t i = 0;
  auto at = [&](size_t k) -> char { return k < text.size() ? text[k] : '\0'; };
  auto high = [](char c) { return static_cast<unsigned char>(c) >= 0x80; };
  auto advance = [&]() {
    char c = text[i++];
    if (c == '\n') {
      ++line;
      column = 0;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column;  // count code points, not UTF-8 continuation bytes
    }
  };
  auto fail = [&](const char* message) { return Unsupported{line, column + 1, message}; };
  // The last character outside strings that was not a blank: strings may only start after
  // '=', '[', ',', '{', '.' or at the start of a line.
  char last = '\n';
  auto string_may_start = [](char prev) {
    return prev == '=' || prev == '[' || prev == ',' || prev == '{' || prev == '.' || prev == '\n';
  };
  State previous = state;
  while (i < text.size()) {
    char c = text[i];
    if (state == State::Normal && previous != State::Normal) {
      last = previous == State::Comment ? '\n' : '"';
    }
    previous = state;
    switch (state) {
      case State::Normal:
        if (high(c)) return fail("non-ASCII character outside a string or comment");
        if (c == '#') {
          state = State::Comment;
        } else if ((c == '"' || c == '\'') && !string_may_start(last)) {
          // Not where TOML allows a string: the file is invalid, and toml++ may scan on
          // past the quote as if it were part of a value. Keep checking as outside a string.
        } else if (c == '"' || c == '\'') {
          bool triple = at(i + 1) == c && at(i + 2) == c;
          if (triple) {
            advance();
            advance();
            state = c == '"' ? State::MultiBasic : State::MultiLiteral;
          } else {
            state = c == '"' ? State::Basic : State::Literal;
          }
        }
        if (c != ' ' && c != '\t' && c != '\r') last = c;
        advance();
        break;
      case State::Comment:
        if (c == '\n') state = State::Normal;
        advance();
        break;
      case State::Basic:
        if (c == '\\') {
          advance();
          if (i < text.size() && text[i] != '\n') advance();
          break;
        }
        if (c == '"' || c == '\n') state = State::Normal;
        advance();
        break;
      case State::Literal:
        if (c == '\'' || c == '\n') state = State::Normal;
        advance();
        break;
      case State::MultiBasic:
      case State::MultiLiteral: {
        char quote = state == State::MultiBasic ? '"' : '\'';
        if (c == quote && at(i + 1) == quote && at(i + 2) == quote) {
          advance();
          advance();
          advance();
          // Up to two more quotes belong to the string's content.
          if (at(i) == quote) advance();
          if (at(i) == quote) advance();
          state = State::Normal;
          break;
        }
        if (state == State::MultiBasic && c == '\\') {
          advance();
          if (i >= text.size()) break;
          if (high(text[i])) return fail("non-ASCII character right after a backslash");
          char next = text[i];
          if (next == ' ' || next == '\t' || next == '\r' || next == '\n') {
            // A line-ending backslash: toml++ skips the whitespace that follows.
            while (i < text.size() &&
                   (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) {
              advance();
            }
            if (i < text.size() && high(text[i])) {
              return fail("non-ASCII character right after a line-ending backslash");
            }
          } else {
            advance();
          }
          break;
        }
        advance();
        break;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<toml::table> parse_toml(std::string_view text, const std::string& path,
                                      std::vector<Diagnostic>& out) {
  if (text.size() > kMaxTomlFileBytes) {
    out.push_back({path, 0, 0,
                   "file is larger than " + std::to_string(kMaxTomlFileBytes) +
                       " bytes; refusing to parse it"});
    return std::nullopt;
  }
  if (auto bad = find_unsupported_byte(text)) {
    out.push_back({path, bad->line, bad->column, std::string("invalid TOML: ") + bad->message});
    return std::nullopt;
  }
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    out.push_back({path, position(where.line), position(where.column),
                   "invalid TOML: " + std::string(error.description())});
  }
  return std::nullopt;
}

std::optional<toml::table> parse_toml_file(const std::string& path, std::vector<Diagnostic>& out) {
  std::string text, error;
  switch (read_small_file(path, kMaxTomlFileBytes, text, error)) {
    case ReadFileStatus::Ok:
      return parse_toml(text, path, out);
    case ReadFileStatus::Missing:
      error = std::strerror(ENOENT);
      break;
    case ReadFileStatus::Error:
      break;
  }
  out.push_back({path, 0, 0, "cannot read: " + error});
  return std::nullopt;
}

const char* toml_type_name(toml::node_type type) noexcept {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown value";
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_distance = SIZE_MAX;
  if (word.size() > 64) return "";  // no key is that long; skip the quadratic comparison
  for (auto candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  // Plausible typo: at most a third of the longer word differs (and at least one edit is ok).
  size_t limit = std::max<size_t>(1, std::max(word.size(), best.size()) / 3);
  if (best.empty() || best_distance > limit) return "";
  return std::string(best);
}

void TomlReader::error(const toml::source_region& where, std::string message) {
  out_.push_back(
      {file_, position(where.begin.line), position(where.begin.column), std::move(message)});
  ++errors_;
}

void TomlReader::error(std::string message) {
  out_.push_back({file_, 0, 0, std::move(message)});
  ++errors_;
}

std::string TomlSection::key_path(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

void TomlSection::error(std::string_view key, const std::string& message) const {
  const toml::node* n = node(key);
  reader_->error(n ? n->source() : table_->source(), key_path(key) + ": " + message);
}

void TomlSection::error_at(const toml::node& at, std::string_view key,
                           const std::string& message) const {
  reader_->error(at, key_path(key) + ": " + message);
}

void TomlSection::type_error(std::string_view key, const toml::node& n,
                             const char* expected) const {
  error_at(n, key, std::string("expected ") + expected + ", got " + toml_type_name(n.type()));
}

std::optional<std::string> TomlSection::string(std::string_view key) const {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  if (const auto* s = n->as_string()) return s->get();
  type_error(key, *n, "a string");
  return std::nullopt;
}

std::optional<bool> TomlSection::boolean(std::string_view key) const {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  if (const auto* b = n->as_boolean()) return b->get();
  type_error(key, *n, "true or false");
  return std::nullopt;
}

std::optional<int64_t> TomlSection::integer(std::string_view key, int64_t min, int64_t max) const {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  const auto* i = n->as_integer();
  if (!i) {
    type_error(key, *n, "an integer");
    return std::nullopt;
  }
  int64_t value = i->get();
  if (value < min || value > max) {
    error_at(*n, key,
             "value " + std::to_string(value) + " is out of range " + std::to_string(min) + ".." +
                 std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> TomlSection::string_array(std::string_view key) const {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  const auto* array = n->as_array();
  if (!array) {
    type_error(key, *n, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (const auto& element : *array) {
    if (const auto* s = element.as_string()) {
      values.push_back(s->get());
    } else {
      error_at(element, key,
               std::string("expected an array of strings, but an element is ") +
                   toml_type_name(element.type()));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return values;
}

std::optional<TomlSection> TomlSection::table(std::string_view key) const {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  const auto* t = n->as_table();
  if (!t) {
    type_error(key, *n, "a table");
    return std::nullopt;
  }
  return TomlSection(*reader_, *t, key_path(key));
}

std::optional<std::string> TomlSection::string_checked(
    std::string_view key, const std::function<std::string(const std::string&)>& check) const {
  auto value = string(key);
  if (!value) return std::nullopt;
  std::string problem = check(*value);
  if (!problem.empty()) {
    error(key, problem);
    return std::nullopt;
  }
  return value;
}

std::optional<std::chrono::milliseconds> TomlSection::duration(std::string_view key) const {
  auto value = string(key);
  if (!value) return std::nullopt;
  std::chrono::milliseconds result{0};
  std::string problem = parse_duration(*value, result);
  if (!problem.empty()) {
    error(key, problem);
    return std::nullopt;
  }
  return result;
}

bool TomlSection::check_keys(std::initializer_list<std::string_view> allowed) const {
  return check_keys(std::vector<std::string_view>(allowed));
}

bool TomlSection::check_keys(const std::vector<std::string_view>& allowed) const {
  bool ok = true;
  for (const auto& [key, value] : *table_) {
    std::string_view name = key.str();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    std::string message = "unknown key \"" + std::string(name) + "\"";
    if (!path_.empty()) message += " in [" + path_ + "]";
    std::string suggestion = did_you_mean(name, allowed);
    if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
    reader_->error(key.source(), message);
    ok = false;
  }
  return ok;
}

}  // namespace cairn
