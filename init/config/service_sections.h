// Internal to the service-file parser: the [resources] and [isolation] tables, which validate
// against the kernel's vocabulary (cgroup limits, capabilities, syscalls, rlimits).
#pragma once

#include "common/toml_reader.h"
#include "init/config/service_spec.h"

namespace cairn::init {

void parse_resources(const TomlSection& section, ResourceSpec& out);
void parse_isolation(const TomlSection& section, IsolationSpec& out);

// "" if `path` is absolute and clean enough to hand to the kernel, else the reason.
std::string check_absolute_path(const std::string& path);

}  // namespace cairn::init
