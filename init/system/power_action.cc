#include "init/system/power_action.h"

#include <sys/reboot.h>

namespace cairn::init::system {

const char* to_string(PowerAction action) noexcept {
  switch (action) {
    case PowerAction::Reboot:
      return "reboot";
    case PowerAction::Poweroff:
      return "poweroff";
    case PowerAction::Halt:
      return "halt";
  }
  return "?";
}

std::optional<PowerAction> parse_power_action(std::string_view text) noexcept {
  if (text == "reboot") return PowerAction::Reboot;
  if (text == "poweroff") return PowerAction::Poweroff;
  if (text == "halt") return PowerAction::Halt;
  return std::nullopt;
}

int reboot_command(PowerAction action) noexcept {
  switch (action) {
    case PowerAction::Reboot:
      return RB_AUTOBOOT;
    case PowerAction::Poweroff:
      return RB_POWER_OFF;
    case PowerAction::Halt:
      return RB_HALT_SYSTEM;
  }
  return RB_HALT_SYSTEM;
}

}  // namespace cairn::init::system
