#include "init/config/service_sections.h"

#include <seccomp.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "common/units.h"

namespace cairn::init {
namespace {

// A byte size given as "64M", "max" (nullopt) or an integer number of bytes.
bool limit_bytes(const TomlSection& section, std::string_view key, std::optional<uint64_t>& out) {
  const toml::node* n = section.node(key);
  if (!n) return false;
  if (const auto* i = n->as_integer()) {
    if (i->get() < 0) {
      section.error(key, "must not be negative");
      return false;
    }
    out = static_cast<uint64_t>(i->get());
    return true;
  }
  if (const auto* s = n->as_string()) {
    std::optional<uint64_t> bytes;
    std::string problem = parse_byte_size(s->get(), bytes, /*allow_max=*/true);
    if (!problem.empty()) {
      section.error(key, problem);
      return false;
    }
    out = bytes;
    return true;
  }
  section.error(key, std::string("expected a size such as \"512M\" or \"max\", got ") +
                         toml_type_name(n->type()));
  return false;
}

bool parse_u64(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

// cgroup v2 cpu.max: "QUOTA PERIOD", "QUOTA" (period 100000) or "max" ["PERIOD"], in µs.
std::string parse_cpu_max(const std::string& text, CpuMax& out) {
  std::string quota = text, period;
  size_t space = text.find(' ');
  if (space != std::string::npos) {
    quota = text.substr(0, space);
    period = text.substr(space + 1);
  }
  CpuMax value;
  const char* usage =
      "expected \"QUOTA PERIOD\" in microseconds (e.g. \"50000 100000\" = half a CPU) or \"max\"";
  if (!period.empty() || space != std::string::npos) {
    if (!parse_u64(period, value.period_us)) return usage;
    if (value.period_us < 1000 || value.period_us > 1'000'000) {
      return "cpu-max period must be 1000..1000000 microseconds";
    }
  }
  if (quota == "max") {
    value.quota_us = 0;
  } else {
    if (!parse_u64(quota, value.quota_us)) return usage;
    if (value.quota_us < 1000) return "cpu-max quota must be at least 1000 microseconds";
  }
  out = value;
  return "";
}

const std::pair<const char*, Namespace> kNamespaces[] = {
    {"mount", Namespace::Mount}, {"pid", Namespace::Pid}, {"ipc", Namespace::Ipc},
    {"uts", Namespace::Uts},     {"net", Namespace::Net}, {"cgroup", Namespace::Cgroup}};

bool has_namespace(const IsolationSpec& spec, Namespace ns) {
  return std::find(spec.namespaces.begin(), spec.namespaces.end(), ns) != spec.namespaces.end();
}

// Capability names ("CAP_NET_ADMIN"), resolved by libcap against the running kernel's list.
std::optional<std::vector<int>> capability_list(const TomlSection& section, std::string_view key) {
  auto names = section.string_array(key);
  if (!names) return std::nullopt;
  const auto& array = *section.node(key)->as_array();
  std::vector<int> caps;
  bool ok = true;
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    cap_value_t value = 0;
    if (name.rfind("CAP_", 0) != 0 || cap_from_name(name.c_str(), &value) != 0) {
      section.error_at(*array.get(i), key,
                       "unknown capability \"" + name +
                           "\"; expected a name such as "
                           "\"CAP_NET_ADMIN\" (see capabilities(7))");
      ok = false;
      continue;
    }
    if (std::find(caps.begin(), caps.end(), value) == caps.end()) caps.push_back(value);
  }
  if (!ok) return std::nullopt;
  return caps;
}

std::optional<std::vector<std::string>> syscall_list(const TomlSection& section,
                                                     std::string_view key) {
  auto names = section.string_array(key);
  if (!names) return std::nullopt;
  const auto& array = *section.node(key)->as_array();
  bool ok = true;
  for (size_t i = 0; i < names->size(); ++i) {
    if ((*names)[i].empty() ||
        seccomp_syscall_resolve_name((*names)[i].c_str()) == __NR_SCMP_ERROR) {
      section.error_at(*array.get(i), key,
                       "unknown system call \"" + (*names)[i] + "\" (not known to libseccomp)");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return names;
}

std::optional<std::vector<std::string>> path_list(const TomlSection& section,
                                                  std::string_view key) {
  auto paths = section.string_array(key);
  if (!paths) return std::nullopt;
  const auto& array = *section.node(key)->as_array();
  bool ok = true;
  for (size_t i = 0; i < paths->size(); ++i) {
    std::string problem = check_absolute_path((*paths)[i]);
    if (!problem.empty()) {
      section.error_at(*array.get(i), key, problem);
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return paths;
}

const std::pair<const char*, int> kRlimits[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK}};

bool parse_rlim_value(const std::string& text, rlim_t& out) {
  if (text == "infinity" || text == "unlimited") {
    out = RLIM_INFINITY;
    return true;
  }
  uint64_t value = 0;
  if (!parse_u64(text, value)) return false;
  out = static_cast<rlim_t>(value);
  return true;
}

void parse_rlimits(const TomlSection& section, std::vector<RlimitSpec>& out) {
  std::vector<std::string_view> names;
  for (const auto& [name, resource] : kRlimits) names.push_back(name);
  section.check_keys(names);
  for (const auto& [key, value] : section.raw()) {
    std::string name(key.str());
    const auto* it = std::find_if(std::begin(kRlimits), std::end(kRlimits),
                                  [&](const auto& entry) { return name == entry.first; });
    if (it == std::end(kRlimits)) continue;  // reported by check_keys
    RlimitSpec limit;
    limit.resource = it->second;
    const char* usage =
        "expected \"SOFT:HARD\" or \"LIMIT\" (numbers or \"infinity\"), e.g. \"1024:4096\"";
    if (const auto* i = value.as_integer()) {
      if (i->get() < 0) {
        section.error_at(value, name, usage);
        continue;
      }
      limit.soft = limit.hard = static_cast<rlim_t>(i->get());
    } else if (const auto* s = value.as_string()) {
      const std::string& text = s->get();
      size_t colon = text.find(':');
      bool ok = colon == std::string::npos
                    ? parse_rlim_value(text, limit.soft)
                    : parse_rlim_value(text.substr(0, colon), limit.soft) &&
                          parse_rlim_value(text.substr(colon + 1), limit.hard);
      if (colon == std::string::npos) limit.hard = limit.soft;
      if (!ok) {
        section.error_at(value, name, usage);
        continue;
      }
    } else {
      section.error_at(value, name, usage);
      continue;
    }
    if (limit.soft > limit.hard) {
      section.error_at(value, name, "the soft limit is above the hard limit");
      continue;
    }
    out.push_back(limit);
  }
}

std::string check_hostname(const std::string& name) {
  if (name.empty() || name.size() > 64) return "hostname must be 1..64 characters";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return "hostname \"" + name + "\" may only contain letters, digits, '-' and '.'";
  }
  if (name.front() == '-' || name.front() == '.')
    return "hostname must start with a letter or digit";
  return "";
}

}  // namespace

std::string check_absolute_path(const std::string& path) {
  if (path.empty()) return "path is empty";
  if (path[0] != '/') return "path \"" + path + "\" is not absolute";
  if (path.find('\0') != std::string::npos) return "path contains a NUL character";
  if (path.size() >= 4096) return "path is longer than PATH_MAX";
  return "";
}

void parse_resources(const TomlSection& section, ResourceSpec& out) {
  section.check_keys(
      {"memory-max", "memory-high", "cpu-weight", "cpu-max", "pids-max", "io-weight"});
  limit_bytes(section, "memory-max", out.memory_max);
  limit_bytes(section, "memory-high", out.memory_high);
  if (out.memory_max && out.memory_high && *out.memory_high > *out.memory_max) {
    section.error("memory-high", "is above memory-max");
  }
  if (auto weight = section.integer("cpu-weight", 1, 10'000)) {
    out.cpu_weight = static_cast<uint32_t>(*weight);
  }
  if (auto weight = section.integer("io-weight", 1, 10'000)) {
    out.io_weight = static_cast<uint32_t>(*weight);
  }
  if (auto text = section.string("cpu-max")) {
    CpuMax value;
    std::string problem = parse_cpu_max(*text, value);
    if (!problem.empty()) {
      section.error("cpu-max", problem);
    } else {
      out.cpu_max = value;
    }
  }
  if (const toml::node* n = section.node("pids-max")) {
    if (n->as_string() && n->as_string()->get() == "max") {
      out.pids_max = std::nullopt;
    } else if (auto pids = section.integer("pids-max", 1, INT32_MAX)) {
      out.pids_max = static_cast<uint64_t>(*pids);
    }
  }
}

void parse_isolation(const TomlSection& section, IsolationSpec& out) {
  section.check_keys({"namespaces", "no-new-privileges", "capabilities", "ambient-capabilities",
                      "seccomp", "seccomp-allow", "seccomp-deny", "read-only-paths",
                      "private-paths", "rlimits", "hostname"});
  if (auto names = section.string_array("namespaces")) {
    const auto& array = *section.node("namespaces")->as_array();
    for (size_t i = 0; i < names->size(); ++i) {
      const auto* it = std::find_if(std::begin(kNamespaces), std::end(kNamespaces),
                                    [&](const auto& e) { return (*names)[i] == e.first; });
      if (it == std::end(kNamespaces)) {
        section.error_at(*array.get(i), "namespaces",
                         "unknown namespace \"" + (*names)[i] +
                             "\"; expected mount, pid, ipc, uts, net or cgroup");
      } else if (has_namespace(out, it->second)) {
        section.error_at(*array.get(i), "namespaces", "\"" + (*names)[i] + "\" is listed twice");
      } else {
        out.namespaces.push_back(it->second);
      }
    }
  }
  if (auto nnp = section.boolean("no-new-privileges")) out.no_new_privileges = *nnp;
  if (auto caps = capability_list(section, "capabilities")) out.capabilities = *caps;
  if (auto ambient = capability_list(section, "ambient-capabilities")) {
    out.ambient_capabilities = *ambient;
    if (out.capabilities) {
      for (int cap : *ambient) {
        if (std::find(out.capabilities->begin(), out.capabilities->end(), cap) ==
            out.capabilities->end()) {
          char* name = cap_to_name(cap);
          section.error("ambient-capabilities",
                        std::string(name ? name : "?") +
                            " is not in `capabilities` (the bounding set); an ambient "
                            "capability must also be kept there");
          cap_free(name);
        }
      }
    }
  }
  if (auto profile = section.string("seccomp")) {
    if (*profile != "default" && !profile->empty()) {
      section.error("seccomp", "unknown profile \"" + *profile +
                                   "\"; expected \"default\" or \"\" (no filter)");
    } else {
      out.seccomp = *profile;
    }
  }
  if (auto allow = syscall_list(section, "seccomp-allow")) out.seccomp_allow = *allow;
  if (auto deny = syscall_list(section, "seccomp-deny")) out.seccomp_deny = *deny;
  for (const char* key : {"seccomp-allow", "seccomp-deny"}) {
    if (section.has(key) && out.seccomp != "default") {
      section.error(key, "needs seccomp = \"default\" (it adjusts the default profile)");
    }
  }
  if (auto paths = path_list(section, "read-only-paths")) out.read_only_paths = *paths;
  if (auto paths = path_list(section, "private-paths")) out.private_paths = *paths;
  for (const char* key : {"read-only-paths", "private-paths"}) {
    if (section.has(key) && !has_namespace(out, Namespace::Mount)) {
      section.error(key, "needs \"mount\" in namespaces (the service's own mount namespace)");
    }
  }
  if (auto rlimits = section.table("rlimits")) parse_rlimits(*rlimits, out.rlimits);
  if (auto hostname = section.string_checked("hostname", check_hostname)) {
    out.hostname = *hostname;
    if (!has_namespace(out, Namespace::Uts)) {
      section.error("hostname", "needs \"uts\" in namespaces (else it would rename the node)");
    }
  }
}

}  // namespace cairn::init
