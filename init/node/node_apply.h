// Applying node.toml at boot (stage 2, Boot mode only: a namespace or a development run must
// not rename the host). Through the SystemCalls seam, so it is unit-tested without root.
//
//   1. read /boot/node.toml (if the user removed it: the image's default,
//      /usr/share/cairn/node.default.toml);
//   2. valid: apply it, keep a copy as the last good config on /var, remove an old error
//      report from the boot partition;
//   3. invalid: every error (file:line:col) goes to the console and to
//      /boot/cairn-node-error.txt (readable from any OS that mounts the FAT partition), and
//      the last good config (else the image's default) is applied instead — a bad edit never
//      stops the boot;
//   4. apply = sethostname + /etc/hostname (the writable overlay /etc) and each [sysctl].
//      With no hostname in any config, /etc/hostname (if valid) is applied.
#pragma once

#include <string>
#include <vector>

#include "init/node/node_config.h"
#include "init/system/system_calls.h"

namespace cairn::init::node {

struct NodeConfigPaths {
  std::string config = "/boot/node.toml";
  std::string image_default = "/usr/share/cairn/node.default.toml";
  std::string last_good = "/var/lib/cairn/node.last-good.toml";
  std::string error_report = "/boot/cairn-node-error.txt";
  std::string etc_hostname = "/etc/hostname";
};

struct NodeApplyReport {
  std::string source;               // the file whose settings were applied ("" = none)
  std::string hostname;             // what sethostname got ("" = not set)
  std::vector<std::string> log;     // what was done, for the console
  std::vector<std::string> errors;  // diagnostics and failures, for the console
};

NodeApplyReport apply_node_config(system::SystemCalls& sys,
                                  const NodeConfigPaths& paths = {}) noexcept;

}  // namespace cairn::init::node
