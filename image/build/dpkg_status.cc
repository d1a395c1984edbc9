#include "image/build/dpkg_status.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

namespace cairn::image {
namespace {

[[noreturn]] void fail(const std::string& file, int line, size_t col, const std::string& why) {
  throw std::runtime_error(file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                           why);
}

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// Debian policy 5.6.1: lowercase letters, digits, + - . ; at least two, starting alphanumeric.
bool valid_name(std::string_view s) {
  if (s.size() < 2 || !is_lower_alnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_lower_alnum(c) || c == '+' || c == '-' || c == '.'; });
}

// Policy 5.6.12 characters ([epoch:]upstream[-revision]); dpkg itself only warns on more.
bool valid_version(std::string_view s) {
  if (s.empty() || !is_alnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '+' || c == '-' || c == '~' || c == ':';
  });
}

bool valid_arch(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Field {
  std::string value;
  int line = 0;
  size_t col = 0;  // where the value starts
};

// One paragraph's fields (names folded to lower case: deb822 names are case-insensitive).
struct Paragraph {
  int first_line = 0;
  std::map<std::string, Field> fields;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// "want flag status" -> whether the package's files are on disk. Throws on anything else.
bool files_present(const Field& f, const std::string& file) {
  static const char* const kWants[] = {"unknown", "install", "hold", "deinstall", "purge"};
  static const char* const kStates[] = {"not-installed",    "config-files",    "half-installed",
                                        "unpacked",         "half-configured", "triggers-awaited",
                                        "triggers-pending", "installed"};
  std::vector<std::string> words;
  for (size_t i = 0; i < f.value.size();) {
    size_t j = f.value.find(' ', i);
    if (j == std::string::npos) j = f.value.size();
    if (j > i) words.push_back(f.value.substr(i, j - i));
    i = j + 1;
  }
  auto in = [](const std::string& w, auto& list) {
    return std::find(std::begin(list), std::end(list), w) != std::end(list);
  };
  if (words.size() != 3 || !in(words[0], kWants) || (words[1] != "ok" && words[1] != "reinstreq") ||
      !in(words[2], kStates))
    fail(file, f.line, f.col,
         "Status must be 'WANT ok|reinstreq STATE' (e.g. 'install ok unpacked'), got '" + f.value +
             "'");
  return words[2] != "not-installed" && words[2] != "config-files";
}

void finish(const Paragraph& p, const std::string& file, std::vector<PackageInfo>& out,
            std::map<std::pair<std::string, std::string>, int>& seen) {
  if (p.fields.empty()) return;
  for (const char* required : {"package", "status", "version", "architecture"}) {
    if (!p.fields.count(required)) {
      std::string name = required;
      name[0] = static_cast<char>(name[0] - 'a' + 'A');
      auto pkg = p.fields.find("package");
      fail(file, p.first_line, 1,
           "entry" + (pkg == p.fields.end() ? std::string() : " '" + pkg->second.value + "'") +
               " has no '" + name + "' field");
    }
  }
  const Field& name = p.fields.at("package");
  const Field& version = p.fields.at("version");
  const Field& arch = p.fields.at("architecture");
  if (!valid_name(name.value))
    fail(file, name.line, name.col, "not a Debian package name: '" + name.value + "'");
  if (!files_present(p.fields.at("status"), file)) return;
  if (!valid_version(version.value))
    fail(file, version.line, version.col, "not a Debian version: '" + version.value + "'");
  if (!valid_arch(arch.value))
    fail(file, arch.line, arch.col, "not a Debian architecture: '" + arch.value + "'");
  auto [it, fresh] = seen.emplace(std::pair{name.value, arch.value}, name.line);
  if (!fresh)
    fail(file, name.line, name.col,
         "package '" + name.value + ":" + arch.value + "' listed twice (first at line " +
             std::to_string(it->second) + ")");
  out.push_back({name.value, version.value, arch.value});
}

}  // namespace

std::vector<PackageInfo> parse_dpkg_status(std::string_view text, const std::string& file) {
  std::vector<PackageInfo> out;
  std::map<std::pair<std::string, std::string>, int> seen;  // (name, arch) -> line
  Paragraph p;
  Field* last = nullptr;  // the field a continuation line extends
  int number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (trim(line).empty()) {  // paragraph separator
      finish(p, file, out, seen);
      p = Paragraph{};
      last = nullptr;
      continue;
    }
    if (line.find('\0') != std::string_view::npos)
      fail(file, number, line.find('\0') + 1, "NUL byte");
    if (line.front() == ' ' || line.front() == '\t') {
      if (last == nullptr) fail(file, number, 1, "continuation line with no field before it");
      last->value += "\n";
      last->value += trim(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) fail(file, number, 1, "expected 'Field: value'");
    std::string_view name = line.substr(0, colon);
    auto bad = std::find_if(name.begin(), name.end(), [](char c) { return c <= ' ' || c > '~'; });
    if (name.empty() || bad != name.end())
      fail(file, number, static_cast<size_t>(bad - name.begin()) + 1,
           "invalid field name '" + std::string(name) + "'");
    std::string key = lower(name);
    if (p.fields.empty()) p.first_line = number;
    std::string_view value = line.substr(colon + 1);
    size_t lead = value.find_first_not_of(" \t");  // value's column: after the blanks
    size_t col = colon + 2 + (lead == std::string_view::npos ? 0 : lead);
    auto [it, fresh] = p.fields.emplace(key, Field{std::string(trim(value)), number, col});
    if (!fresh)
      fail(file, number, 1,
           "field '" + std::string(name) + "' repeated (first at line " +
               std::to_string(it->second.line) + ")");
    last = &it->second;
  }
  finish(p, file, out, seen);
  std::sort(out.begin(), out.end(), [](const PackageInfo& a, const PackageInfo& b) {
    return std::tie(a.name, a.architecture) < std::tie(b.name, b.architecture);
  });
  return out;
}

std::string packages_tsv(const std::vector<PackageInfo>& packages) {
  std::string out;
  for (const auto& p : packages) out += p.name + "\t" + p.version + "\t" + p.architecture + "\n";
  return out;
}

}  // namespace cairn::image
