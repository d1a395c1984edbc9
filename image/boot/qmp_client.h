// A minimal QMP (QEMU Machine Protocol) client over QEMU's unix socket: enough to send
// `system_powerdown` (the ACPI / GPIO power button) and `quit`.
#pragma once

#include <string>

namespace cairn::image {

// Connects, negotiates capabilities and runs `command` (e.g. "system_powerdown"). Returns ""
// on success or the reason it failed (connect error, QMP error reply, timeout).
std::string qmp_execute(const std::string& socket_path, const std::string& command,
                        int timeout_ms = 5000);

}  // namespace cairn::image
