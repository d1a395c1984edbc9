#include "init/exec/credentials.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>

namespace cairn::init {
namespace {

// Splits one colon-separated line of passwd/group into its fields.
std::vector<std::string_view> split(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (true) {
    size_t end = line.find(separator, pos);
    if (end == std::string_view::npos) {
      fields.push_back(line.substr(pos));
      return fields;
    }
    fields.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
}

std::optional<uint32_t> parse_id(std::string_view text) {
  uint32_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  // (uid_t)-1 means "unchanged" to setuid/setgid; never hand it out as an id.
  if (value == UINT32_MAX) return std::nullopt;
  return value;
}

// Every line of a colon database, comments and blank lines skipped.
std::vector<std::string_view> database_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    lines.push_back(line);
  }
  return lines;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

std::string resolve_credentials(std::string_view user, std::string_view group, Credentials& out,
                                const std::string& etc_dir) {
  out = Credentials{};
  if (user.empty() && group.empty()) return "";
  CredentialDatabases db;
  db.passwd_path = etc_dir + "/passwd";
  db.group_path = etc_dir + "/group";
  db.have_passwd = read_file(db.passwd_path, db.passwd);
  db.have_group = read_file(db.group_path, db.group);
  return resolve_credentials(user, group, db, out);
}

std::string resolve_credentials(std::string_view user, std::string_view group,
                                const CredentialDatabases& db, Credentials& out) {
  out = Credentials{};
  if (user.empty() && group.empty()) return "";
  out.change = true;

  const std::string& passwd_path = db.passwd_path;
  const std::string& group_path = db.group_path;
  std::vector<std::string_view> passwd = database_lines(db.passwd);
  std::vector<std::string_view> groups = database_lines(db.group);
  bool have_passwd = db.have_passwd;
  bool have_group = db.have_group;

  std::string user_name;  // for supplementary groups; "" when unknown
  std::optional<gid_t> primary;
  if (user.empty()) {
    out.uid = 0;
    user_name = "root";
  } else if (auto numeric = parse_id(user)) {
    out.uid = *numeric;
    for (const auto& line : passwd) {
      auto fields = split(line, ':');
      if (fields.size() < 4) continue;
      if (parse_id(fields[2]) == *numeric) {
        user_name = std::string(fields[0]);
        if (auto gid = parse_id(fields[3])) primary = *gid;
        break;
      }
    }
    if (!primary) primary = static_cast<gid_t>(*numeric);
  } else {
    if (!have_passwd) return "user \"" + std::string(user) + "\": cannot read " + passwd_path;
    bool found = false;
    for (const auto& line : passwd) {
      auto fields = split(line, ':');
      if (fields.size() < 4 || fields[0] != user) continue;
      auto uid = parse_id(fields[2]);
      auto gid = parse_id(fields[3]);
      if (!uid || !gid) {
        return "user \"" + std::string(user) + "\": malformed entry in " + passwd_path;
      }
      out.uid = *uid;
      primary = *gid;
      user_name = std::string(user);
      found = true;
      break;
    }
    if (!found) return "user \"" + std::string(user) + "\" not found in " + passwd_path;
  }

  if (group.empty()) {
    out.gid = primary.value_or(0);
  } else if (auto numeric = parse_id(group)) {
    out.gid = *numeric;
  } else {
    if (!have_group) return "group \"" + std::string(group) + "\": cannot read " + group_path;
    bool found = false;
    for (const auto& line : groups) {
      auto fields = split(line, ':');
      if (fields.size() < 3 || fields[0] != group) continue;
      auto gid = parse_id(fields[2]);
      if (!gid) return "group \"" + std::string(group) + "\": malformed entry in " + group_path;
      out.gid = *gid;
      found = true;
      break;
    }
    if (!found) return "group \"" + std::string(group) + "\" not found in " + group_path;
  }

  out.groups.push_back(out.gid);
  if (!user_name.empty()) {
    for (const auto& line : groups) {
      auto fields = split(line, ':');
      if (fields.size() < 4 || fields[3].empty()) continue;
      auto gid = parse_id(fields[2]);
      if (!gid) continue;
      for (auto member : split(fields[3], ',')) {
        if (member == user_name) {
          if (std::find(out.groups.begin(), out.groups.end(), *gid) == out.groups.end()) {
            out.groups.push_back(*gid);
          }
          break;
        }
      }
    }
  }
  return "";
}

}  // namespace cairn::init
