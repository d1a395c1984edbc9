#include "init/config/service_file.h"

#include <algorithm>

#include "common/toml_reader.h"
#include "common/units.h"
#include "init/config/service_sections.h"

namespace cairn::init {
namespace {

bool has_nul(const std::string& s) {
  return s.find('\0') != std::string::npos;
}

// exec-style argv: non-empty, argv[0] absolute, no NUL bytes.
std::optional<std::vector<std::string>> parse_argv(const TomlSection& section,
                                                   std::string_view key) {
  auto argv = section.string_array(key);
  if (!argv) return std::nullopt;
  if (argv->empty()) {
    section.error(key, "must name a program: [\"/absolute/path\", \"arg\", ...]");
    return std::nullopt;
  }
  for (const auto& arg : *argv) {
    if (has_nul(arg)) {
      section.error(key, "an argument contains a NUL character");
      return std::nullopt;
    }
  }
  std::string problem = check_absolute_path((*argv)[0]);
  if (!problem.empty()) {
    section.error(key, "the program " + problem + " (there is no PATH lookup)");
    return std::nullopt;
  }
  return argv;
}

std::optional<std::chrono::milliseconds> positive_duration(const TomlSection& section,
                                                           std::string_view key) {
  auto value = section.duration(key);
  if (value && value->count() <= 0) {
    section.error(key, "must be greater than zero");
    return std::nullopt;
  }
  return value;
}

// requires / after / members: names of other services, each checked, no duplicates.
void parse_refs(const TomlSection& top, std::string_view key, ServiceRef::Kind kind,
                const std::string& self, std::vector<std::string>& names,
                std::vector<ServiceRef>& refs) {
  const toml::node* n = top.node(key);
  auto list = top.string_array(key);
  if (!list) return;
  const auto& array = *n->as_array();
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string& name = (*list)[i];
    const toml::node& element = *array.get(i);
    std::string problem = check_service_name(name);
    if (!problem.empty()) {
      top.error_at(element, key, problem);
      continue;
    }
    if (name == self) {
      top.error_at(element, key, "a service cannot name itself");
      continue;
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      top.error_at(element, key, "\"" + name + "\" is listed twice");
      continue;
    }
    names.push_back(name);
    const auto& begin = element.source().begin;
    refs.push_back({kind, name, static_cast<int>(begin.line), static_cast<int>(begin.column)});
  }
}

bool valid_env_name(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

void parse_environment(const TomlSection& env, ServiceSpec& spec) {
  for (const auto& [key, value] : env.raw()) {
    std::string name(key.str());
    if (!valid_env_name(name)) {
      env.reader().error(key.source(), env.key_path(name) +
                                           ": not a valid environment variable name (letters, "
                                           "digits and '_', not starting with a digit)");
      continue;
    }
    const auto* s = value.as_string();
    if (!s) {
      env.error_at(value, name,
                   std::string("expected a string, got ") + toml_type_name(value.type()) +
                       " (quote numbers: NAME = \"1\")");
      continue;
    }
    if (has_nul(s->get())) {
      env.error_at(value, name, "contains a NUL character");
      continue;
    }
    spec.environment.emplace_back(name, s->get());
  }
}

std::string check_account(const std::string& name) {
  if (name.empty()) return "must not be empty (leave the key out to run as root)";
  if (name.size() > 32) return "is longer than 32 characters";
  for (char c : name) {
    if (c == ':' || c == '/' || c == ',' || static_cast<unsigned char>(c) <= ' ') {
      return "\"" + name + "\" is not a valid user or group name";
    }
  }
  return "";
}

void parse_ready(const TomlSection& ready, ReadySpec& out) {
  ready.check_keys({"type", "timeout", "fd", "socket", "check", "interval"});
  static const std::pair<const char*, ReadyType> kTypes[] = {{"none", ReadyType::None},
                                                             {"notify", ReadyType::Notify},
                                                             {"fd", ReadyType::Fd},
                                                             {"socket", ReadyType::Socket},
                                                             {"exec", ReadyType::Exec}};
  if (auto type = ready.string("type")) {
    bool found = false;
    for (const auto& [name, value] : kTypes) {
      if (*type == name) {
        out.type = value;
        found = true;
      }
    }
    if (!found) {
      ready.error("type", "unknown readiness type \"" + *type +
                              "\"; expected none, notify, fd, socket or exec");
    }
  }
  if (auto timeout = positive_duration(ready, "timeout")) out.timeout = *timeout;
  if (auto interval = positive_duration(ready, "interval")) out.interval = *interval;
  if (auto fd = ready.integer("fd", 3, 1023)) out.fd = static_cast<int>(*fd);
  if (auto socket = ready.string("socket")) {
    std::string problem;
    if (socket->rfind("unix:", 0) == 0) {
      problem = check_absolute_path(socket->substr(5));
      if (problem.empty() && socket->size() - 5 >= 108) problem = "unix socket path is too long";
    } else if (socket->rfind("tcp:", 0) == 0) {
      std::string rest = socket->substr(4);
      size_t colon = rest.rfind(':');
      std::string port = colon == std::string::npos ? "" : rest.substr(colon + 1);
      bool digits =
          !port.empty() && port.size() <= 5 &&
          std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (colon == 0 || colon == std::string::npos || !digits || std::stoi(port) < 1 ||
          std::stoi(port) > 65535) {
        problem = "expected \"tcp:HOST:PORT\" with a port 1..65535";
      }
    } else {
      problem = "expected \"unix:/path/to.sock\" or \"tcp:HOST:PORT\"";
    }
    if (!problem.empty()) {
      ready.error("socket", problem);
    } else {
      out.socket = *socket;
    }
  }
  if (auto check = parse_argv(ready, "check")) out.check = *check;

  // Keys that only mean something for one type are errors elsewhere: a forgotten `type`
  // would otherwise silently turn a readiness probe into "ready at once".
  auto only_for = [&](std::string_view key, ReadyType type, const char* type_name) {
    if (ready.has(key) && out.type != type) {
      ready.error(key, std::string("is only used with type = \"") + type_name + "\"");
    }
  };
  only_for("socket", ReadyType::Socket, "socket");
  only_for("check", ReadyType::Exec, "exec");
  only_for("fd", ReadyType::Fd, "fd");
  if (ready.has("interval") && out.type != ReadyType::Socket && out.type != ReadyType::Exec) {
    ready.error("interval", "is only used with type = \"socket\" or \"exec\"");
  }
  if (out.type == ReadyType::Socket && !ready.has("socket")) {
    ready.error("type", "type = \"socket\" needs socket = \"unix:/path\" or \"tcp:HOST:PORT\"");
  }
  if (out.type == ReadyType::Exec && !ready.has("check")) {
    ready.error("type", "type = \"exec\" needs check = [\"/path/to/probe\", ...]");
  }
}

void parse_restart(const TomlSection& restart, RestartSpec& out) {
  restart.check_keys({"policy", "delay", "max-delay", "burst", "interval"});
  if (auto policy = restart.string("policy")) {
    if (*policy == "always") {
      out.policy = RestartPolicy::Always;
    } else if (*policy == "on-failure") {
      out.policy = RestartPolicy::OnFailure;
    } else if (*policy == "never") {
      out.policy = RestartPolicy::Never;
    } else {
      restart.error("policy",
                    "unknown policy \"" + *policy + "\"; expected always, on-failure or never");
    }
  }
  if (auto delay = restart.duration("delay")) out.delay = *delay;
  if (auto max_delay = positive_duration(restart, "max-delay")) out.max_delay = *max_delay;
  // 0 = no start limit (systemd's StartLimitBurst=0): restarts go on with capped backoff.
  if (auto burst = restart.integer("burst", 0, 10'000)) out.burst = static_cast<int>(*burst);
  if (auto interval = positive_duration(restart, "interval")) out.interval = *interval;
  if (out.max_delay < out.delay) {
    restart.error(restart.has("max-delay") ? "max-delay" : "delay",
                  "max-delay (" + format_duration(out.max_delay) + ") is shorter than delay (" +
                      format_duration(out.delay) + ")");
  }
}

void parse_stop(const TomlSection& stop, StopSpec& out) {
  stop.check_keys({"signal", "timeout"});
  if (auto name = stop.string("signal")) {
    int signal = 0;
    std::string problem = parse_signal(*name, signal);
    if (!problem.empty()) {
      stop.error("signal", problem);
    } else {
      out.signal = signal;
    }
  }
  if (auto timeout = positive_duration(stop, "timeout")) out.timeout = *timeout;
}

// A byte size given as a string ("64M") or an integer number of bytes.
std::optional<uint64_t> byte_size(const TomlSection& section, std::string_view key, uint64_t min,
                                  uint64_t max) {
  const toml::node* n = section.node(key);
  if (!n) return std::nullopt;
  std::optional<uint64_t> bytes;
  if (const auto* i = n->as_integer()) {
    if (i->get() < 0) {
      section.error(key, "must not be negative");
      return std::nullopt;
    }
    bytes = static_cast<uint64_t>(i->get());
  } else if (const auto* s = n->as_string()) {
    std::string problem = parse_byte_size(s->get(), bytes, /*allow_max=*/false);
    if (!problem.empty()) {
      section.error(key, problem);
      return std::nullopt;
    }
  } else {
    section.error(key,
                  std::string("expected a size such as \"1M\", got ") + toml_type_name(n->type()));
    return std::nullopt;
  }
  if (*bytes < min || *bytes > max) {
    section.error(key, "must be between " + format_bytes(min) + " and " + format_bytes(max));
    return std::nullopt;
  }
  return bytes;
}

void parse_log(const TomlSection& log, LogSpec& out) {
  log.check_keys({"max-file-size", "max-files", "ring-size"});
  if (auto size = byte_size(log, "max-file-size", 4096, 1ull << 40)) out.max_file_bytes = *size;
  if (auto files = log.integer("max-files", 1, 100)) out.max_files = static_cast<int>(*files);
  // The ring lives in PID 1's memory: bounded so one service cannot bloat it.
  if (auto ring = byte_size(log, "ring-size", 1024, 16ull << 20)) out.ring_bytes = *ring;
}

constexpr std::string_view kTopKeys[] = {
    "description",       "exec",     "args-file", "environment", "user",    "group",
    "working-directory", "requires", "after",     "members",     "enabled", "ready",
    "restart",           "stop",     "resources", "isolation",   "log"};

// Keys that configure a process; a group has no process of its own.
constexpr std::string_view kProcessKeys[] = {
    "exec",  "args-file", "environment", "user",      "group", "working-directory",
    "ready", "stop",      "resources",   "isolation", "log",   "restart"};

void parse_top(const TomlSection& top, ParsedService& parsed) {
  ServiceSpec& spec = parsed.spec;
  top.check_keys(std::vector<std::string_view>(std::begin(kTopKeys), std::end(kTopKeys)));
  if (auto description = top.string("description")) spec.description = *description;
  if (auto enabled = top.boolean("enabled")) spec.enabled = *enabled;
  parse_refs(top, "requires", ServiceRef::Kind::Requires, spec.name, spec.required, parsed.refs);
  parse_refs(top, "after", ServiceRef::Kind::After, spec.name, spec.after, parsed.refs);
  parse_refs(top, "members", ServiceRef::Kind::Member, spec.name, spec.members, parsed.refs);
  bool group = top.has("members");
  if (group) {
    if (top.node("members")->as_array() && top.node("members")->as_array()->empty()) {
      top.error("members", "a group needs at least one member");
    }
    for (auto key : kProcessKeys) {
      if (top.has(key)) {
        top.error(key,
                  "a group (a service with members) runs no process of its own; set this on "
                  "its members");
      }
    }
    return;
  }

  if (auto exec = parse_argv(top, "exec")) {
    spec.exec = *exec;
  } else if (!top.has("exec")) {
    top.reader().error("missing exec = [\"/absolute/path\", ...] (or members = [...] for a group)");
  }
  if (auto args_file = top.string_checked("args-file", check_absolute_path)) {
    spec.args_file = *args_file;
  }
  if (auto env = top.table("environment")) parse_environment(*env, spec);
  if (auto user = top.string_checked("user", check_account)) spec.user = *user;
  if (auto group_name = top.string_checked("group", check_account)) spec.group = *group_name;
  if (auto dir = top.string_checked("working-directory", check_absolute_path)) {
    spec.working_directory = *dir;
  }
  if (auto ready = top.table("ready")) parse_ready(*ready, spec.ready);
  if (auto restart = top.table("restart")) parse_restart(*restart, spec.restart);
  if (auto stop = top.table("stop")) parse_stop(*stop, spec.stop);
  if (auto resources = top.table("resources")) parse_resources(*resources, spec.resources);
  if (auto isolation = top.table("isolation")) parse_isolation(*isolation, spec.isolation);
  if (auto log = top.table("log")) parse_log(*log, spec.log);
}

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0) {
    name.resize(name.size() - 5);
  }
  return name;
}

}  // namespace

const char* to_string(ServiceRef::Kind kind) noexcept {
  switch (kind) {
    case ServiceRef::Kind::Requires:
      return "requires";
    case ServiceRef::Kind::After:
      return "after";
    case ServiceRef::Kind::Member:
      return "members";
  }
  return "?";
}

std::string check_service_name(std::string_view name) {
  if (name.empty()) return "service name is empty";
  if (name.size() > 64) return "service name is longer than 64 characters";
  if (name[0] == '.' || name[0] == '-') {
    return "service name \"" + std::string(name) + "\" must not start with '.' or '-'";
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-';
    if (!ok) {
      return "service name \"" + std::string(name) +
             "\" may only contain letters, digits and _ . @ -";
    }
  }
  return "";
}

ParsedService parse_service(std::string_view text, const std::string& path,
                            const std::string& name) {
  ParsedService parsed;
  parsed.spec.name = name;
  parsed.spec.file = path;
  std::string problem = check_service_name(name);
  if (!problem.empty()) {
    parsed.diagnostics.push_back({path, 0, 0, "file name gives an invalid " + problem});
  }
  auto root = parse_toml(text, path, parsed.diagnostics);
  if (!root) return parsed;
  TomlReader reader(path, parsed.diagnostics);
  parse_top(TomlSection(reader, *root), parsed);
  return parsed;
}

ParsedService parse_service_file(const std::string& path) {
  ParsedService parsed;
  parsed.spec.name = base_name(path);
  parsed.spec.file = path;
  std::string problem = check_service_name(parsed.spec.name);
  if (!problem.empty()) {
    parsed.diagnostics.push_back({path, 0, 0, "file name gives an invalid " + problem});
  }
  auto root = parse_toml_file(path, parsed.diagnostics);
  if (!root) return parsed;
  TomlReader reader(path, parsed.diagnostics);
  parse_top(TomlSection(reader, *root), parsed);
  return parsed;
}

}  // namespace cairn::init
