// What the machine does at the end of a shutdown. Shared by the signal map, the control
// server (cairnctl poweroff|reboot|halt), the power key and the final shutdown sequence.
#pragma once

#include <optional>
#include <string_view>

namespace cairn::init::system {

enum class PowerAction { Reboot, Poweroff, Halt };

// "reboot" | "poweroff" | "halt".
const char* to_string(PowerAction action) noexcept;
std::optional<PowerAction> parse_power_action(std::string_view text) noexcept;
// The reboot(2) command: RB_AUTOBOOT, RB_POWER_OFF or RB_HALT_SYSTEM.
int reboot_command(PowerAction action) noexcept;

}  // namespace cairn::init::system
