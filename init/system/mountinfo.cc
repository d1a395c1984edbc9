#include "init/system/mountinfo.h"

#include <charconv>

namespace cairn::init::system {
namespace {

struct Field {
  std::string_view text;
  size_t column;  // 1-based
};

// Splits one line at single spaces (mountinfo never has runs of spaces; an empty field from
// a doubled space is reported by the caller as a missing value).
std::vector<Field> split_fields(std::string_view line) {
  std::vector<Field> fields;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ' ') {
      fields.push_back({line.substr(start, i - start), start + 1});
      start = i + 1;
    }
  }
  return fields;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

}  // namespace

std::string unescape_mountinfo_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && is_octal(field[i + 1]) &&
        is_octal(field[i + 2]) && is_octal(field[i + 3])) {
      int value = (field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0');
      if (value <= 255) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

bool MountEntry::has_mount_option(std::string_view option) const {
  std::string_view rest = mount_options;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    if (item == option) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

std::string MountinfoError::str(std::string_view file) const {
  std::string out(file);
  out += ':' + std::to_string(line) + ':' + std::to_string(column) + ": error: " + message;
  return out;
}

const MountEntry* Mountinfo::find(std::string_view path) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->mount_point == path) return &*it;
  }
  return nullptr;
}

Mountinfo parse_mountinfo(std::string_view text) {
  Mountinfo info;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line.empty()) continue;

    auto error = [&](size_t column, std::string message) {
      info.errors.push_back({line_number, static_cast<int>(column), std::move(message)});
    };
    std::vector<Field> f = split_fields(line);
    // Find the " - " separator: the first lone "-" field after the six fixed fields.
    size_t separator = 0;
    for (size_t i = 6; i < f.size(); ++i) {
      if (f[i].text == "-") {
        separator = i;
        break;
      }
    }
    if (f.size() < 6) {
      error(line.size() + 1, "expected at least 6 fields before the ' - ' separator");
      continue;
    }
    if (separator == 0) {
      error(f[5].column, "missing the ' - ' separator");
      continue;
    }
    if (f.size() < separator + 4) {
      error(f[separator].column, "expected fstype, source and super options after ' - '");
      continue;
    }
    MountEntry entry;
    if (!parse_number(f[0].text, entry.mount_id)) {
      error(f[0].column, "mount id is not a number");
      continue;
    }
    if (!parse_number(f[1].text, entry.parent_id)) {
      error(f[1].column, "parent id is not a number");
      continue;
    }
    size_t colon = f[2].text.find(':');
    if (colon == std::string_view::npos || !parse_number(f[2].text.substr(0, colon), entry.major) ||
        !parse_number(f[2].text.substr(colon + 1), entry.minor)) {
      error(f[2].column, "expected major:minor");
      continue;
    }
    if (f[3].text.empty() || f[4].text.empty() || f[separator + 1].text.empty()) {
      size_t column = f[3].text.empty()   ? f[3].column
                      : f[4].text.empty() ? f[4].column
                                          : f[separator + 1].column;
      error(column, "empty field");
      continue;
    }
    entry.root = unescape_mountinfo_field(f[3].text);
    entry.mount_point = unescape_mountinfo_field(f[4].text);
    entry.mount_options = std::string(f[5].text);
    for (size_t i = 6; i < separator; ++i) entry.optional_fields.emplace_back(f[i].text);
    entry.fstype = unescape_mountinfo_field(f[separator + 1].text);
    entry.source = unescape_mountinfo_field(f[separator + 2].text);
    // Super options are the rest of the line (they never contain spaces, but be lenient).
    std::string_view super = line.substr(f[separator + 3].column - 1);
    entry.super_options = unescape_mountinfo_field(super);
    info.entries.push_back(std::move(entry));
  }
  return info;
}

}  // namespace cairn::init::system
