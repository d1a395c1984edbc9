// The power button: ACPI (QEMU's `system_powerdown`) and gpio-keys boards report it as
// KEY_POWER on an evdev device (/dev/input/eventN). This component finds every device whose
// EVIOCGBIT(EV_KEY) bitmap has KEY_POWER, watches them on the loop, and calls `on_press`
// once per key-down. PID 1 turns that into a clean poweroff.
#pragma once

#include <linux/input.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "init/loop/event_loop.h"

namespace cairn::init::system {

// True for a key-down (value 1) of KEY_POWER; repeats (2) and releases (0) are not presses.
bool is_power_key_press(const input_event& event) noexcept;
// EVIOCGBIT(EV_KEY): does this evdev fd report KEY_POWER?
bool device_has_power_key(int fd) noexcept;

class PowerKeyWatcher {
 public:
  PowerKeyWatcher(EventLoop& loop, std::function<void()> on_press);
  ~PowerKeyWatcher();  // unwatches and closes its fds
  PowerKeyWatcher(const PowerKeyWatcher&) = delete;
  PowerKeyWatcher& operator=(const PowerKeyWatcher&) = delete;

  // Opens every <dir>/event* that reports KEY_POWER; returns how many are watched now.
  size_t open_devices(const std::string& dir = "/dev/input") noexcept;
  // Watches an already open evdev fd (takes ownership, also on failure; made non-blocking). Tests
  // pass the read end of a pipe carrying input_event records.
  bool add_fd(int fd) noexcept;
  size_t device_count() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::init::system
