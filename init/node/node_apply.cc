#include "init/node/node_apply.h"

#include <cerrno>
#include <cstring>

namespace cairn::init::node {
namespace {

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

void apply_hostname(system::SystemCalls& sys, const NodeConfigPaths& paths, const std::string& name,
                    const std::string& from, NodeApplyReport& report) {
  if (int err = sys.sethostname(name); err != 0) {
    report.errors.push_back("sethostname(" + name + "): " + std::strerror(err));
    return;
  }
  report.hostname = name;
  report.log.push_back("hostname " + name + " (from " + from + ")");
  // /etc/hostname as well, so programs that read the file (not uname) agree.
  std::string current;
  if (sys.read_file(paths.etc_hostname, current) == 0 && trim(current) == name) return;
  if (int err = sys.replace_file(paths.etc_hostname, name + "\n", 0644); err != 0) {
    report.errors.push_back(paths.etc_hostname + ": " + std::strerror(err));
  }
}

void apply(system::SystemCalls& sys, const NodeConfigPaths& paths, const NodeConfig& config,
           const std::string& from, NodeApplyReport& report) {
  report.source = from;
  if (config.hostname) {
    apply_hostname(sys, paths, *config.hostname, from, report);
  } else {
    std::string text;
    if (sys.read_file(paths.etc_hostname, text) == 0) {
      std::string name = trim(text);
      if (hostname_problem(name).empty()) {
        apply_hostname(sys, paths, name, paths.etc_hostname, report);
      } else if (!name.empty()) {
        report.errors.push_back(paths.etc_hostname + ": hostname \"" + name + "\" " +
                                hostname_problem(name));
      }
    }
  }
  for (const auto& [name, value] : config.sysctls) {
    if (int err = sys.write_file(sysctl_path(name), value); err != 0) {
      report.errors.push_back("sysctl " + name + " = " + value + ": " + std::strerror(err));
    } else {
      report.log.push_back("sysctl " + name + " = " + value);
    }
  }
}

// Reads and parses one candidate; nullopt-like: false if missing or invalid.
bool load(system::SystemCalls& sys, const std::string& path, ParsedNodeConfig& out,
          std::string& text, int& read_error) {
  read_error = sys.read_file(path, text);
  if (read_error != 0) return false;
  out = parse_node_config(text, path);
  return out.valid();
}

}  // namespace

NodeApplyReport apply_node_config(system::SystemCalls& sys, const NodeConfigPaths& paths) noexcept {
  NodeApplyReport report;
  try {
    ParsedNodeConfig parsed;
    std::string text;
    int read_error = 0;
    if (load(sys, paths.config, parsed, text, read_error)) {
      apply(sys, paths, parsed.config, paths.config, report);
      // The last good config, for the day node.toml is broken by an edit.
      if (sys.make_dirs(parent_dir(paths.last_good), 0755) == 0) {
        std::string saved;
        if (sys.read_file(paths.last_good, saved) != 0 || saved != text) {
          sys.replace_file(paths.last_good, text, 0644);
        }
      }
      std::string stale;
      if (sys.read_file(paths.error_report, stale) == 0) sys.remove_file(paths.error_report);
      return report;
    }
    if (read_error == 0) {
      // Invalid: say where and why, on the console and on the boot partition.
      std::string listing = to_string(parsed.diagnostics);
      for (const Diagnostic& d : parsed.diagnostics) report.errors.push_back(d.str());
      std::string note = "node config " + paths.config + " is invalid; ";
      std::string fallback;
      ParsedNodeConfig other;
      std::string other_text;
      int other_error = 0;
      if (load(sys, paths.last_good, other, other_text, other_error)) {
        fallback = paths.last_good;
      } else if (load(sys, paths.image_default, other, other_text, other_error)) {
        fallback = paths.image_default;
      }
      note += fallback.empty() ? "no earlier config to fall back to"
                               : "using the last good one, " + fallback;
      report.errors.push_back(note);
      if (int err = sys.replace_file(paths.error_report, listing + note + "\n", 0644); err != 0) {
        report.errors.push_back(paths.error_report + ": " + std::strerror(err));
      }
      if (!fallback.empty())
        apply(sys, paths, other.config, fallback, report);
      else
        apply(sys, paths, NodeConfig{}, "", report);
      return report;
    }
    if (read_error != ENOENT) {
      report.errors.push_back(paths.config + ": " + std::strerror(read_error));
    }
    // No node.toml: the image's default, else /etc/hostname alone.
    if (load(sys, paths.image_default, parsed, text, read_error)) {
      apply(sys, paths, parsed.config, paths.image_default, report);
    } else {
      if (read_error == 0) {
        for (const Diagnostic& d : parsed.diagnostics) report.errors.push_back(d.str());
      }
      apply(sys, paths, NodeConfig{}, "", report);
    }
  } catch (...) {
    report.errors.push_back("node config: out of memory");
  }
  return report;
}

}  // namespace cairn::init::node
