// What PID 1 does when it crashes. PID 1 exiting panics the kernel, and returning from a
// SIGSEGV handler re-executes the faulting instruction, so the handler (on its own
// sigaltstack) writes one message to the console and /dev/kmsg and then never returns:
//   freeze (default): stays in the handler for ever, reaping children so no zombies pile up
//                     (services keep running unsupervised; the console says so);
//   reboot (kernel cmdline cairn.crash=reboot): a forked child waits `reboot_delay` seconds,
//                     syncs and calls reboot(RB_AUTOBOOT); PID 1 reaps meanwhile.
// Handled: SIGSEGV SIGBUS SIGILL SIGFPE SIGABRT SIGTRAP SIGSYS. Everything in the handler is
// async-signal-safe.
#pragma once

#include "init/system/kernel_cmdline.h"

namespace cairn::init::system {

enum class CrashMode { Freeze, Reboot };

// cairn.crash=reboot -> Reboot; anything else (or absent) -> Freeze.
CrashMode crash_mode_from_cmdline(const KernelCmdline& cmdline) noexcept;

struct CrashHandlerOptions {
  CrashMode mode = CrashMode::Freeze;
  unsigned reboot_delay_s = 10;
  // Where the message goes; -1 = /dev/console and /dev/kmsg (opened at install time, so the
  // handler never has to open files). Tests pass a pipe.
  int message_fd = -1;
  // Test seam: called in the forked child instead of sync()+reboot(RB_AUTOBOOT). Must be
  // async-signal-safe and must not return.
  void (*reboot_child)(unsigned delay_s) = nullptr;
};

// Installs the handler on a static alternate stack (a stack overflow can still be reported).
// Calling it again updates the options. Returns false (errno set) if sigaltstack or
// sigaction fail. Only for PID 1: in Dev mode a crash should just crash.
bool install_crash_handler(const CrashHandlerOptions& options) noexcept;

}  // namespace cairn::init::system
