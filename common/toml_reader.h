// Reading TOML configuration (service files, image recipes, node config) with errors that name
// file:line:col. toml++ parses; this layer turns its parse errors and every wrong type, bad
// value or unknown key into a Diagnostic pointing at the key or value in the source, so a user
// always learns where and why. Loading-time code: allocates, never used on PID 1's hot paths.
//
// Pattern:
//   std::vector<Diagnostic> diags;
//   auto root = parse_toml_file(path, diags);            // nullopt on a syntax error
//   TomlReader reader(path, diags);
//   TomlSection top(reader, *root);
//   top.check_keys({"name", "exec", "ready"});           // unknown keys -> errors
//   auto name = top.string("name");                      // wrong type -> error, nullopt
//   if (auto ready = top.table("ready")) { ... ready->duration("timeout") ... }
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.h"

namespace cairn {

// Inputs larger than this are refused before parsing (no configuration file is this big).
inline constexpr size_t kMaxTomlFileBytes = 4 << 20;

// Parses `text` (named `path` in diagnostics). On a syntax error appends one diagnostic with
// toml++'s position and description and returns nullopt.
std::optional<toml::table> parse_toml(std::string_view text, const std::string& path,
                                      std::vector<Diagnostic>& out);
// Reads and parses a file; unreadable or oversized files are diagnostics too.
std::optional<toml::table> parse_toml_file(const std::string& path, std::vector<Diagnostic>& out);

// "string", "integer", "table", ... for messages.
const char* toml_type_name(toml::node_type type) noexcept;

// The candidate closest to `word` by edit distance if it is close enough to be a plausible
// typo, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

// Collects diagnostics for one file.
class TomlReader {
 public:
  TomlReader(std::string file, std::vector<Diagnostic>& out) : file_(std::move(file)), out_(out) {}

  const std::string& file() const { return file_; }
  // Appends "file:line:col: error: message" at `where` (begin position).
  void error(const toml::source_region& where, std::string message);
  void error(const toml::node& node, std::string message) {
    error(node.source(), std::move(message));
  }
  // An error about the whole file (no position).
  void error(std::string message);
  // Number of diagnostics this reader appended.
  size_t errors() const { return errors_; }

 private:
  std::string file_;
  std::vector<Diagnostic>& out_;
  size_t errors_ = 0;
};

// A view of one TOML table with typed accessors. `path` is its dotted name ("" for the root,
// "restart", "isolation.rlimits") used to prefix messages: `restart.delay: expected ...`.
// Each accessor returns nullopt when the key is absent (no error) or when its value is wrong
// (an error at the value's position).
class TomlSection {
 public:
  TomlSection(TomlReader& reader, const toml::table& table, std::string path = "")
      : reader_(&reader), table_(&table), path_(std::move(path)) {}

  const toml::table& raw() const { return *table_; }
  const std::string& path() const { return path_; }
  TomlReader& reader() const { return *reader_; }
  bool has(std::string_view key) const { return table_->contains(key); }
  const toml::node* node(std::string_view key) const { return table_->get(key); }
  // The dotted name of `key` in this table ("restart.delay").
  std::string key_path(std::string_view key) const;

  std::optional<std::string> string(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  // Integers outside [min, max] are errors.
  std::optional<int64_t> integer(std::string_view key, int64_t min = INT64_MIN,
                                 int64_t max = INT64_MAX) const;
  std::optional<std::vector<std::string>> string_array(std::string_view key) const;
  // A sub-table; a value of another type is an error.
  std::optional<TomlSection> table(std::string_view key) const;

  // A string checked by `check`, which returns "" if it is fine or the reason it is not.
  std::optional<std::string> string_checked(
      std::string_view key, const std::function<std::string(const std::string&)>& check) const;
  // A duration string ("100ms", "30s", "1h30m"; see common/units.h).
  std::optional<std::chrono::milliseconds> duration(std::string_view key) const;

  // Reports every key not in `allowed` with a did-you-mean suggestion; returns false if any.
  bool check_keys(std::initializer_list<std::string_view> allowed) const;
  bool check_keys(const std::vector<std::string_view>& allowed) const;

  // "<key path>: message" at the key's value (or at the table if the key is absent).
  void error(std::string_view key, const std::string& message) const;
  // "<key path>: message" at `node` (an element of an array, say).
  void error_at(const toml::node& node, std::string_view key, const std::string& message) const;

 private:
  void type_error(std::string_view key, const toml::node& node, const char* expected) const;

  TomlReader* reader_;
  const toml::table* table_;
  std::string path_;
};

}  // namespace cairn
