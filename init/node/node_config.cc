#include "init/node/node_config.h"

#include <algorithm>

#include "common/toml_reader.h"

namespace cairn::init::node {
namespace {

constexpr size_t kMaxHostnameBytes = 64;  // HOST_NAME_MAX
constexpr size_t kMaxSysctlNameBytes = 255;
constexpr size_t kMaxSysctlValueBytes = 4096;

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// The value of one sysctl as /proc/sys takes it, or nullopt (with an error) for anything
// that is not a string, integer or boolean.
std::optional<std::string> sysctl_value(TomlReader& reader, const toml::node& value,
                                        const std::string& name) {
  std::string out;
  if (const auto* s = value.as_string()) {
    out = s->get();
  } else if (const auto* i = value.as_integer()) {
    out = std::to_string(i->get());
  } else if (const auto* b = value.as_boolean()) {
    out = b->get() ? "1" : "0";
  } else {
    reader.error(value, "sysctl." + name + ": expected a string, integer or boolean, got " +
                            toml_type_name(value.type()));
    return std::nullopt;
  }
  if (out.empty() || out.size() > kMaxSysctlValueBytes || out.find('\n') != std::string::npos) {
    reader.error(value, "sysctl." + name + ": the value must be one non-empty line");
    return std::nullopt;
  }
  return out;
}

// [sysctl]: quoted names ("net.ipv4.ip_forward" = 1) and TOML dotted keys (which toml++
// turns into nested tables) both end up as one flat name.
using PlacedSysctl = std::pair<toml::source_position, std::pair<std::string, std::string>>;

void collect_sysctls(TomlReader& reader, const toml::table& table, const std::string& prefix,
                     int depth, std::vector<PlacedSysctl>& out) {
  for (const auto& [key, value] : table) {
    std::string name =
        prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const auto* sub = value.as_table(); sub != nullptr && depth < 16) {
      collect_sysctls(reader, *sub, name, depth + 1, out);
      continue;
    }
    if (std::string problem = sysctl_name_problem(name); !problem.empty()) {
      reader.error(key.source().begin ? key.source() : value.source(),
                   "sysctl." + name + ": " + problem);
      continue;
    }
    if (auto v = sysctl_value(reader, value, name)) {
      out.emplace_back(value.source().begin, std::make_pair(name, *v));
    }
  }
}

}  // namespace

std::string hostname_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxHostnameBytes) {
    return "is " + std::to_string(name.size()) + " bytes long; the limit is 64";
  }
  size_t label_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') {
      if (!is_label_char(name[i])) {
        return std::string("contains '") + name[i] +
               "': use lower-case letters, digits, '-' and '.' only";
      }
      continue;
    }
    std::string_view label = name.substr(label_start, i - label_start);
    if (label.empty()) return "has an empty label (\"..\" or a leading/trailing '.')";
    if (label.size() > 63) return "has a label longer than 63 bytes";
    if (label.front() == '-' || label.back() == '-')
      return "has a label starting or ending with '-'";
    label_start = i + 1;
  }
  return "";
}

std::string sysctl_name_problem(std::string_view name) {
  if (name.empty() || name.size() > kMaxSysctlNameBytes) return "not a sysctl name";
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') {
      char c = name[i];
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
      if (!ok) return std::string("not a sysctl name (contains '") + c + "')";
      continue;
    }
    if (i == start) return "not a sysctl name (empty component)";
    start = i + 1;
  }
  if (name.find('.') == std::string_view::npos) return "not a sysctl name (expected a.b[.c...])";
  return "";
}

std::string sysctl_path(std::string_view name) {
  std::string path = "/proc/sys/";
  for (char c : name) path += c == '.' ? '/' : c;
  return path;
}

ParsedNodeConfig parse_node_config(std::string_view text, const std::string& path) {
  ParsedNodeConfig out;
  try {
    auto root = parse_toml(text, path, out.diagnostics);
    if (!root) return out;
    TomlReader reader(path, out.diagnostics);
    TomlSection top(reader, *root);
    top.check_keys(
        {"hostname", "network", "users", "kubernetes", "cluster", "sysctl", "containerd"});
    out.config.hostname = top.string_checked("hostname", hostname_problem);
    // Tables read by other components: only their type is PID 1's business.
    for (const char* key : {"network", "users", "kubernetes", "cluster", "containerd"}) {
      (void)top.table(key);
    }
    if (auto sysctl = top.table("sysctl")) {
      // toml++ tables are sorted by key: back to the order of the file.
      std::vector<PlacedSysctl> placed;
      collect_sysctls(reader, sysctl->raw(), "", 0, placed);
      std::stable_sort(placed.begin(), placed.end(), [](const auto& a, const auto& b) {
        return a.first.line != b.first.line ? a.first.line < b.first.line
                                            : a.first.column < b.first.column;
      });
      for (auto& p : placed) out.config.sysctls.push_back(std::move(p.second));
    }
  } catch (...) {
    out.diagnostics.push_back({path, 0, 0, "out of memory while reading"});
  }
  if (!out.valid()) out.config = NodeConfig{};
  return out;
}

}  // namespace cairn::init::node
