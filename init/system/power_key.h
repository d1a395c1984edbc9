// The power button: ACPI (QEMU's `system_powerdown`) and gpio-keys boards report it as
// KEY_POWER on an evdev device (/dev/input/eventN). This component finds every device whose
// EVIOCGBIT(EV_KEY) bitmap has KEY_POWER, watches them on the loop, and calls `on_press`
// once per key-down. PID 1 turns that into a clean poweroff.
//
// Devices that appear after boot (a button driver loaded late, a USB keyboard plugged in) are
// picked up through inotify on /dev/input (devtmpfs reports the kernel's new nodes); if
// /dev/input does not exist yet, its parent is watched until it does.
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
// Opens `path` and returns the fd if it is an evdev device with KEY_POWER, else -1: the
// default device probe.
int open_power_key_device(const std::string& path) noexcept;

class PowerKeyWatcher {
 public:
  // The seam to the device nodes: path -> an fd carrying input_event records (owned by the
  // watcher from then on), or -1 if `path` is not a power key. Tests hand in pipes.
  using DeviceProbe = std::function<int(const std::string& path)>;

  PowerKeyWatcher(EventLoop& loop, std::function<void()> on_press,
                  DeviceProbe probe = open_power_key_device);
  ~PowerKeyWatcher();  // unwatches and closes its fds
  PowerKeyWatcher(const PowerKeyWatcher&) = delete;
  PowerKeyWatcher& operator=(const PowerKeyWatcher&) = delete;

  // Probes every <dir>/event* not watched yet; returns how many devices are watched now.
  size_t open_devices(const std::string& dir = "/dev/input") noexcept;
  // From now on probes each event* node created in `dir` (inotify); if `dir` is missing,
  // waits for it to be created (then scans it). False if inotify cannot be set up.
  bool watch_for_new_devices(const std::string& dir = "/dev/input") noexcept;
  // Watches an already open evdev fd (takes ownership, also on failure; made non-blocking). Tests
  // pass the read end of a pipe carrying input_event records.
  bool add_fd(int fd) noexcept;
  size_t device_count() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::init::system
