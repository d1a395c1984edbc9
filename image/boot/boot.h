// `cairn-image boot IMAGE`: runs an image under QEMU (TCG; no KVM is assumed) with the right
// firmware and a serial console.
//   x86_64: qemu-system-x86_64 -M q35, OVMF (code read-only + a private copy of the vars)
//   arm64:  qemu-system-aarch64 -M virt -cpu max, AAVMF (same scheme)
//   rpi:    qemu-system-aarch64 -M raspi3b, -kernel/-dtb/-initrd, the image as -sd
// With --kernel/--initrd/--append the firmware is skipped (direct kernel boot).
//
// Interactive (default): the serial console is on stdio (-nographic); returns QEMU's status.
// Batch (--batch): the console is captured and echoed; once the guest prints
// `cairn-init: node ready in <ms> ms` (docs/boot-contract.md) the boot timeline that follows
// is printed, the guest is powered off through QMP `system_powerdown`, and run_boot waits for
// QEMU to exit. Non-zero (with the last console lines on stderr) if the node was not ready
// within the timeout or did not power off cleanly.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cairn::image {

struct BootOptions {
  std::filesystem::path image;  // raw or qcow2 disk image (format detected by magic)
  std::string arch = "x86_64";  // x86_64 | arm64 | rpi
  bool batch = false;
  int timeout_seconds = 600;  // batch: until ready (TCG is slow; arm64 slower still)
  int poweroff_timeout_seconds = 120;
  std::string memory = "1024";  // QEMU -m value (MiB, or with a suffix "1G")
  int cpus = 2;
  std::filesystem::path kernel;       // direct boot: -kernel (required for rpi)
  std::filesystem::path initrd;       // direct boot: -initrd
  std::filesystem::path dtb;          // rpi: -dtb
  std::string append;                 // direct boot: -append (kernel command line)
  bool snapshot = false;              // writes go to a temporary overlay, the image is unchanged
  std::filesystem::path console_log;  // batch: also write the whole console here ("" = no)
  std::vector<std::string> extra_qemu_args;
  // Batch: console lines (substrings) that end the boot as failed at once, e.g. stage 1's
  // "cairn-stage1: FAILED"; the default set is filled in by parse_boot_args.
  std::vector<std::string> fail_patterns;
};

// Parses the arguments after `cairn-image boot`:
//   IMAGE [--arch A] [--batch] [--timeout S] [--memory M] [--cpus N] [--kernel F]
//   [--initrd F] [--dtb F] [--append S] [--snapshot] [--console-log F] [-- QEMU-ARGS...]
// Throws std::runtime_error naming the bad argument.
BootOptions parse_boot_args(const std::vector<std::string>& args);

// The QEMU command line for these options (exposed for tests and `--dry-run` style output).
// `qmp_socket` and `vars_copy` are paths the caller created room for.
std::vector<std::string> qemu_command(const BootOptions& options, const std::string& qmp_socket,
                                      const std::string& vars_copy);

// Runs the boot as described above. Returns the process exit status for the command.
int run_boot(const BootOptions& options);

// parse_boot_args + run_boot, printing usage errors to stderr (exit status 2).
int boot_main(const std::vector<std::string>& args);

}  // namespace cairn::image
