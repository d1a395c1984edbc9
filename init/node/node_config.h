// node.toml: the node configuration a user edits on the boot partition after flashing
// (DESIGN.md "Node config"; docs/pid1.md "Node config"). cairn-init applies the parts that
// belong to PID 1: the hostname and [sysctl]. The other tables ([network.<if>], [users.<name>],
// [kubernetes], [cluster], [containerd]) belong to the services that read node.toml
// themselves; here they are only checked to be tables, so a typo at the top level
// ("hostnmae") is still reported.
//
//   hostname = "edge-01"
//   [sysctl]
//   "net.ipv4.ip_forward" = 1        # or, as TOML dotted keys: net.ipv4.ip_forward = 1
//   "vm.swappiness" = "10"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/diagnostic.h"

namespace cairn::init::node {

struct NodeConfig {
  std::optional<std::string> hostname;
  // sysctl name ("net.ipv4.ip_forward") -> value as written to /proc/sys ("1"), in file order.
  std::vector<std::pair<std::string, std::string>> sysctls;
};

struct ParsedNodeConfig {
  NodeConfig config;
  std::vector<Diagnostic> diagnostics;  // every problem, file:line:col
  bool valid() const { return diagnostics.empty(); }
};

// Parses node.toml text; `path` names it in diagnostics. Never throws on bad input.
ParsedNodeConfig parse_node_config(std::string_view text, const std::string& path);

// "" if `name` is a valid hostname (RFC 1123 labels of [a-z0-9-], 1..63 bytes each, not
// starting or ending with '-', at most 64 bytes in all: the kernel's limit), else why not.
std::string hostname_problem(std::string_view name);
// "" if `name` is a sysctl name cairn-init will write ("net.ipv4.ip_forward": dot-separated
// components of [A-Za-z0-9_-]), else why not.
std::string sysctl_name_problem(std::string_view name);
// "/proc/sys/net/ipv4/ip_forward" for "net.ipv4.ip_forward".
std::string sysctl_path(std::string_view name);

}  // namespace cairn::init::node
