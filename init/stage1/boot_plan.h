// What stage 1 will do, decided from the kernel command line alone (docs/boot-contract.md):
// the devices to find, verity parameters, timeouts and the emergency behaviour. A pure
// function, so every key and every bad value is unit-tested without booting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::init::stage1 {

// A device named on the command line: PARTLABEL=..., PARTUUID=... or a /dev path.
struct DeviceSpec {
  enum class Kind { kNone, kPartLabel, kPartUuid, kPath } kind = Kind::kNone;
  std::string value;  // PARTUUID lowercased
  bool empty() const { return kind == Kind::kNone; }
  std::string str() const;  // as written on the command line
};

enum class Emergency { kHalt, kReboot, kShell };

struct BootPlan {
  DeviceSpec root;                         // cairn.root= (required)
  DeviceSpec data;                         // cairn.data= (absent: /var and /etc changes on tmpfs)
  DeviceSpec boot;                         // cairn.boot= (absent: no /boot, errors only on console)
  std::string roothash;                    // cairn.verity.roothash= lowercase hex ("" = no verity)
  uint64_t hash_offset = 0;                // cairn.verity.hashoffset= bytes
  std::string rootfstype = "erofs";        // cairn.rootfstype= erofs | squashfs
  int timeout_seconds = 30;                // cairn.timeout=
  Emergency emergency = Emergency::kHalt;  // cairn.emergency=
  std::string slot;                        // cairn.slot= a | b (passed on to stage 2)
  std::string init = "/usr/sbin/cairn-init";  // cairn.init= stage 2 path (absolute)
  bool grow_data = true;                      // cairn.data.grow=0 turns first-boot growth off
  int module_threads = 1;                     // cairn.modules.threads= 1..4 (module_loader.h)
};

struct PlanResult {
  BootPlan plan;
  std::vector<std::string> errors;  // "cairn.key=value: reason"; the plan is unusable if any
  bool ok() const { return errors.empty(); }
};

// Splits a kernel command line the way the kernel does (spaces; double quotes group).
std::vector<std::string> split_cmdline(std::string_view cmdline);

// Parses one device spec ("PARTLABEL=cairn-root-a"); kind kNone and *error set when bad.
DeviceSpec parse_device_spec(std::string_view text, std::string* error);

PlanResult plan_from_cmdline(std::string_view cmdline);

}  // namespace cairn::init::stage1
