#include "init/stage1/stage1.h"

#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "init/stage1/block_devices.h"
#include "init/stage1/boot_plan.h"
#include "init/stage1/device_wait.h"
#include "init/stage1/module_loader.h"
#include "init/stage1/readahead.h"
#include "init/stage1/stage1_log.h"
#include "init/stage1/storage_hint.h"
#include "init/stage1/system_steps.h"

namespace cairn::init {
namespace {

using namespace stage1;

constexpr const char* kSysroot = "/sysroot";
constexpr const char* kMapperName = "cairn-root";
constexpr const char* kBootModules = "/etc/cairn/boot-modules";

void sleep_ms(int ms) {
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string read_file(const char* path) {
  FILE* f = std::fopen(path, "re");
  if (!f) return {};
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return text;
}

std::string read_cmdline() {
  return read_file("/proc/cmdline");
}

[[noreturn]] void halt_forever() {
  log_error("emergency: halted (cairn.emergency=halt); fix the problem above and power-cycle");
  while (true) ::pause();  // PID 1 must never exit: the kernel would panic
}

// The boot modules being loaded (run()), so that an emergency can wait for them: writing the
// error onto the boot partition needs vfat.
ModuleLoader* g_modules = nullptr;

// The documented emergency behaviour (docs/stage1.md). Never returns.
[[noreturn]] void emergency(Emergency mode, const std::string& step, const std::string& why,
                            const std::optional<BlockDevice>& boot) {
  log_error("FAILED: " + step + ": " + why);
  if (g_modules) {
    std::vector<std::string> warnings;
    g_modules->finish(&warnings);
    for (const auto& w : warnings) log_warning("module: " + w);
  }
  if (boot) {
    std::string text = "cairn stage 1 failed at " + std::to_string(uptime_ms()) +
                       " ms after boot\nstep: " + step + "\nerror: " + why +
                       "\nkernel command line: " + read_cmdline() + "\n";
    std::string error = write_boot_error(*boot, text);
    if (error.empty()) {
      log_error("the error is also in cairn-boot-error.txt on the boot partition");
    } else {
      log_warning("could not write cairn-boot-error.txt: " + error);
    }
  }
  if (mode == Emergency::kReboot) {
    log_error("emergency: rebooting in 10 s (cairn.emergency=reboot)");
    sleep_ms(10000);
    ::sync();
    ::reboot(RB_AUTOBOOT);
  } else if (mode == Emergency::kShell) {
    if (::access("/bin/sh", X_OK) == 0) {
      log_error("emergency: starting /bin/sh (cairn.emergency=shell)");
      char sh[] = "/bin/sh";
      char* argv[] = {sh, nullptr};
      ::execv(sh, argv);
      log_error(std::string("emergency: exec /bin/sh: ") + std::strerror(errno));
    } else {
      log_error("emergency: no /bin/sh in the initramfs for cairn.emergency=shell");
    }
  }
  halt_forever();
}

std::optional<BlockDevice> find_boot_quickly(const BootPlan& plan) {
  if (plan.boot.empty()) return std::nullopt;
  auto matches = match_devices(plan.boot, scan_block_devices());
  if (matches.size() != 1) return std::nullopt;
  return *matches[0];
}

void run() {
  const long long start = uptime_ms();
  std::string error = mount_api_filesystems();
  log_open_kmsg();
  log_info("stage 1 started at " + std::to_string(start) + " ms");
  if (!error.empty()) emergency(Emergency::kHalt, "API file systems", error, std::nullopt);

  PlanResult planned = plan_from_cmdline(read_cmdline());
  BootPlan& plan = planned.plan;
  if (!planned.ok()) {
    std::string all;
    for (const auto& e : planned.errors) all += (all.empty() ? "" : "; ") + e;
    emergency(plan.emergency, "kernel command line", all, find_boot_quickly(plan));
  }

  // The boot modules load on a thread of their own (cairn.modules.threads=N: N threads side by
  // side, each module once what it needs is in; module_loader.h); each step below waits only
  // for the modules it needs.
  struct utsname u {};
  ::uname(&u);
  const std::string module_dir = std::string("/lib/modules/") + u.release + "/";
  std::vector<ModuleEntry> module_list = parse_module_list(read_file(kBootModules));
  if (!module_list.empty() && ::access(module_dir.c_str(), F_OK) != 0) {
    emergency(plan.emergency, "kernel modules",
              "the initramfs has no modules for the running kernel " + std::string(u.release) +
                  " (built for another kernel version?)",
              std::nullopt);
  }
  ModuleLoader modules(module_dir, std::move(module_list), load_module_file, plan.module_threads);
  modules.start();
  g_modules = &modules;

  std::vector<WaitRequest> requests = {{"root", plan.root, true}};
  if (!plan.data.empty()) requests.push_back({"data", plan.data, true});
  if (!plan.boot.empty()) requests.push_back({"boot", plan.boot, false});
  WaitSeam seam{[] { return scan_block_devices(); }, [] { return uptime_ms(); },
                [](int ms) { sleep_ms(ms); },
                [] { return describe_unclaimed_storage(find_unclaimed_storage()); }};
  WaitResult devices = wait_for_devices(requests, plan.timeout_seconds * 1000LL, seam);
  std::optional<BlockDevice> boot;
  if (!plan.boot.empty()) boot = devices.found.back();
  for (const auto& w : devices.warnings) log_warning(w);
  if (!devices.errors.empty()) emergency(plan.emergency, "devices", devices.errors.front(), boot);
  const BlockDevice& root = *devices.found[0];
  const BlockDevice* data = plan.data.empty() ? nullptr : &*devices.found[1];
  log_info("root " + plan.root.str() + " is " + root.name +
           (data ? ", data is " + data->name : "") + (boot ? ", boot is " + boot->name : ""));

  std::string root_dev = "/dev/" + root.devname;
  if (!plan.roothash.empty()) {
    modules.wait_for("dm_verity");
    std::string options;
    error = setup_verity(root, plan.roothash, plan.hash_offset, kMapperName, &options);
    if (!error.empty()) emergency(plan.emergency, "dm-verity", error, boot);
    root_dev = std::string("/dev/mapper/") + kMapperName;
    log_info("dm-verity: " + root_dev + " verifies " + root.name +
             (options.empty() ? "" : " (" + options + ")"));
  } else {
    log_warning("no cairn.verity.roothash: the root is NOT verified (development only)");
  }

  ::mkdir(kSysroot, 0755);
  modules.wait_for(module_name_of(plan.rootfstype));
  if (::mount(root_dev.c_str(), kSysroot, plan.rootfstype.c_str(), MS_RDONLY, nullptr) != 0) {
    emergency(plan.emergency, "mount root",
              root_dev + " (" + plan.rootfstype + ") on " + kSysroot + ": " + std::strerror(errno),
              boot);
  }

  // The services' executables, read ahead by a child while /var and stage 2 are prepared: on
  // an idle host the second vCPU does these reads and their verity hashing while stage 1 waits
  // for modules. Started after /var instead, stage 1 was shorter under host load but stage 2
  // took 0.6-1.06 s instead of 0.29-0.46 s to spawn the datastore and node ready was later at low
  // load (docs/benchmarks.md "Boot time, session 6").
  if (start_readahead(kSysroot) > 0) log_info("reading ahead the services' executables");

  // Each step waits only for its own modules: /var for the data partition's file system and
  // overlay, the boot partition for vfat and its code pages; the rest of the list (input
  // drivers for stage 2's power key) loads meanwhile, and all are in before the switch.
  // Under TCG the button and evdev modules took ~0.1 s that /var used to wait for.
  modules.wait_for("ext4");
  modules.wait_for("overlay");
  std::vector<std::string> notes;
  error = prepare_writable(data, kSysroot, "/run/cairn/data", plan.grow_data, &notes);
  for (const auto& n : notes) log_info(n);
  if (!error.empty()) emergency(plan.emergency, "writable /var and /etc", error, boot);

  if (boot) {
    for (const char* m : {"vfat", "nls_cp437", "nls_ascii"}) modules.wait_for(m);
    const std::string dev = "/dev/" + boot->devname;
    const std::string target = std::string(kSysroot) + "/boot";
    if (::mount(dev.c_str(), target.c_str(), "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "umask=0077") != 0) {
      log_warning(dev + " (vfat) on " + target + ": " + std::strerror(errno));
    }
  }

  std::vector<std::string> warnings;
  int loaded = modules.finish(&warnings);
  for (const auto& w : warnings) log_warning("module: " + w);
  log_info("loaded " + std::to_string(loaded) + " kernel modules");

  log_info("switching to " + plan.init + " after " + std::to_string(uptime_ms() - start) +
           " ms in stage 1");
  error = switch_root_and_exec(kSysroot, plan.init);
  // The API mounts may have moved already: nothing else of the initramfs is reliable now.
  emergency(plan.emergency, "switch_root", error, std::nullopt);
}

}  // namespace

int run_stage1() noexcept {
  try {
    run();
  } catch (const std::exception& e) {
    log_error(std::string("FAILED: internal error: ") + e.what());
  } catch (...) {
    log_error("FAILED: internal error");
  }
  halt_forever();
}

}  // namespace cairn::init
