// PID 1's own messages before /var is writable: /dev/console ("cairn-init: message") and
// /dev/kmsg ("<N>cairn-init: message", for dmesg). Each message appears on the console exactly
// once: it is written there directly, and to kmsg only when the kernel's console log level
// would not print the record too (a `quiet` boot). Both are opened non-blocking once; a slow
// serial console drops a message rather than blocking PID 1. The write path is
// async-signal-safe (usable after fork and in the crash handler).
#pragma once

#include <string_view>

namespace cairn::init::system {

enum class ConsoleLevel { Error = 3, Warning = 4, Notice = 5, Info = 6 };

// Opens /dev/kmsg and /dev/console (idempotent). Missing devices are fine (dev mode).
void console_open() noexcept;
// Development mode / tests: send everything to `fd` (e.g. stderr) instead; -1 = nowhere.
// Also stops using /dev/kmsg and /dev/console.
void console_redirect(int fd) noexcept;

// "cairn-init: message\n" to the console (or the redirect fd), "<level>cairn-init: message"
// to kmsg as described above. Messages longer than ~900 bytes are cut (a kmsg record's limit is ~1
// KiB).
void console_log(std::string_view message, ConsoleLevel level = ConsoleLevel::Info) noexcept;

// The console fd (redirect, /dev/console or -1): the log hub writes service lines there.
int console_fd() noexcept;
int kmsg_fd() noexcept;

}  // namespace cairn::init::system
