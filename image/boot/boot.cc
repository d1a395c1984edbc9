#include "image/boot/boot.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "image/boot/console_watch.h"
#include "image/boot/qmp_client.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

int parse_int(const std::string& flag, const std::string& value, int lo, int hi) {
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < lo || v > hi) {
    throw std::runtime_error(flag + ": expected a number from " + std::to_string(lo) + " to " +
                             std::to_string(hi) + ", got '" + value + "'");
  }
  return static_cast<int>(v);
}

std::string detect_format(const fs::path& image) {
  std::ifstream in(image, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return std::memcmp(magic, "QFI\xfb", 4) == 0 ? "qcow2" : "raw";
}

// Firmware code (read-only) and the vars template copied per boot.
std::pair<std::string, std::string> firmware(const std::string& arch) {
  const std::vector<std::pair<std::string, std::string>> candidates =
      arch == "x86_64"
          ? std::vector<std::pair<std::string, std::string>>{{"/usr/share/OVMF/OVMF_CODE_4M.fd",
                                                              "/usr/share/OVMF/OVMF_VARS_4M.fd"},
                                                             {"/usr/share/OVMF/OVMF_CODE.fd",
                                                              "/usr/share/OVMF/OVMF_VARS.fd"}}
          : std::vector<std::pair<std::string, std::string>>{
                {"/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"}};
  for (const auto& c : candidates) {
    if (fs::exists(c.first) && fs::exists(c.second)) return c;
  }
  throw std::runtime_error("no UEFI firmware for " + arch + " (install " +
                           (arch == "x86_64" ? "ovmf" : "qemu-efi-aarch64") + ": " +
                           candidates.front().first + ")");
}

uint64_t next_power_of_two(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

BootOptions parse_boot_args(const std::vector<std::string>& args) {
  BootOptions o;
  o.fail_patterns = default_fail_patterns();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::runtime_error(a + ": missing value");
      return args[++i];
    };
    if (a == "--arch") {
      o.arch = value();
      if (o.arch != "x86_64" && o.arch != "arm64" && o.arch != "rpi") {
        throw std::runtime_error("--arch: expected x86_64, arm64 or rpi, got '" + o.arch + "'");
      }
    } else if (a == "--batch") {
      o.batch = true;
    } else if (a == "--timeout") {
      o.timeout_seconds = parse_int(a, value(), 1, 24 * 3600);
    } else if (a == "--poweroff-timeout") {
      o.poweroff_timeout_seconds = parse_int(a, value(), 1, 3600);
    } else if (a == "--memory") {
      o.memory = value();
      if (o.memory.empty() || o.memory.find_first_not_of("0123456789MGmgk") != std::string::npos) {
        throw std::runtime_error("--memory: expected a size such as 1024 or 1G");
      }
    } else if (a == "--cpus") {
      o.cpus = parse_int(a, value(), 1, 64);
    } else if (a == "--kernel") {
      o.kernel = value();
    } else if (a == "--initrd") {
      o.initrd = value();
    } else if (a == "--dtb") {
      o.dtb = value();
    } else if (a == "--append") {
      o.append = value();
    } else if (a == "--snapshot") {
      o.snapshot = true;
    } else if (a == "--console-log") {
      o.console_log = value();
    } else if (a == "--") {
      o.extra_qemu_args.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    } else if (!a.empty() && a[0] == '-') {
      throw std::runtime_error("unknown option '" + a + "'");
    } else if (o.image.empty()) {
      o.image = a;
    } else {
      throw std::runtime_error("unexpected argument '" + a + "' (one IMAGE only)");
    }
  }
  if (o.image.empty()) throw std::runtime_error("missing IMAGE");
  if (!fs::exists(o.image)) throw std::runtime_error(o.image.string() + ": no such image");
  if (o.arch == "rpi" && (o.kernel.empty() || o.dtb.empty())) {
    throw std::runtime_error(
        "--arch rpi needs --kernel and --dtb (QEMU's raspi3b has no firmware)");
  }
  if (o.kernel.empty() && (!o.initrd.empty() || !o.append.empty())) {
    throw std::runtime_error("--initrd/--append need --kernel");
  }
  for (const fs::path* p : {&o.kernel, &o.initrd, &o.dtb}) {
    if (!p->empty() && !fs::exists(*p)) throw std::runtime_error(p->string() + ": no such file");
  }
  return o;
}

std::vector<std::string> qemu_command(const BootOptions& o, const std::string& qmp_socket,
                                      const std::string& vars_copy) {
  std::vector<std::string> cmd;
  const std::string format = detect_format(o.image);
  const bool direct = !o.kernel.empty();
  if (o.arch == "x86_64") {
    cmd = {"qemu-system-x86_64", "-accel", "tcg", "-M", "q35", "-cpu", "max"};
  } else if (o.arch == "arm64") {
    cmd = {"qemu-system-aarch64", "-accel", "tcg", "-M", "virt", "-cpu", "max"};
  } else {
    // raspi3b: fixed 1 GiB, four cores, the image is the SD card.
    cmd = {"qemu-system-aarch64", "-M", "raspi3b"};
  }
  if (o.arch != "rpi") {
    cmd.insert(cmd.end(), {"-m", o.memory, "-smp", std::to_string(o.cpus)});
    if (!direct) {
      auto [code, vars] = firmware(o.arch);
      (void)vars;
      cmd.insert(cmd.end(), {"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + code,
                             "-drive", "if=pflash,format=raw,unit=1,file=" + vars_copy});
    }
    cmd.insert(
        cmd.end(),
        {"-drive", "file=" + o.image.string() + ",format=" + format + ",if=virtio,cache=unsafe",
         "-nic", "user,model=virtio-net-pci"});
  } else {
    cmd.insert(cmd.end(), {"-drive", "file=" + o.image.string() + ",format=" + format + ",if=sd"});
  }
  if (direct) {
    cmd.insert(cmd.end(), {"-kernel", o.kernel.string()});
    if (!o.initrd.empty()) cmd.insert(cmd.end(), {"-initrd", o.initrd.string()});
    if (!o.dtb.empty()) cmd.insert(cmd.end(), {"-dtb", o.dtb.string()});
    if (!o.append.empty()) cmd.insert(cmd.end(), {"-append", o.append});
  }
  if (o.snapshot) cmd.push_back("-snapshot");
  cmd.insert(cmd.end(), {"-qmp", "unix:" + qmp_socket + ",server=on,wait=off"});
  if (o.batch) {
    cmd.insert(cmd.end(), {"-display", "none", "-serial", "stdio", "-monitor", "none"});
  } else {
    cmd.push_back("-nographic");  // serial console and QEMU monitor (C-a c) on stdio
  }
  cmd.insert(cmd.end(), o.extra_qemu_args.begin(), o.extra_qemu_args.end());
  return cmd;
}

namespace {

// A private directory for the QMP socket, the firmware vars copy and (rpi) the SD overlay.
struct WorkDir {
  fs::path path;
  WorkDir() {
    char tmpl[] = "/tmp/cairn-boot.XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path = tmpl;
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

pid_t spawn(const std::vector<std::string>& argv, int stdout_fd) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (stdout_fd >= 0) {
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(stdout_fd, 1);
      ::dup2(stdout_fd, 2);
    }
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "cairn-image boot: cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  return pid;
}

// Waits for `pid` up to `ms`; true (and *status) if it exited.
bool wait_for(pid_t pid, int ms, int* status) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (true) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (Clock::now() >= deadline) return false;
    ::usleep(50000);
  }
}

void print_tail(const ConsoleWatch& watch) {
  std::fprintf(stderr, "cairn-image boot: last console lines:\n");
  for (const auto& l : watch.last_lines()) std::fprintf(stderr, "  | %s\n", l.c_str());
}

int run_batch(const BootOptions& o, const std::vector<std::string>& cmd, const std::string& qmp) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = spawn(cmd, pipe_fds[1]);
  ::close(pipe_fds[1]);
  const int out = pipe_fds[0];
  std::FILE* log = o.console_log.empty() ? nullptr : std::fopen(o.console_log.c_str(), "w");
  ConsoleWatch watch(o.fail_patterns);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(o.timeout_seconds);
  auto ready_at = Clock::time_point::max();
  std::string partial;
  bool eof = false;
  int status = 0;
  bool exited = false;
  // Phase 1: until ready (+ 3 s of timeline), failure, timeout or QEMU exits.
  while (!eof) {
    const auto now = Clock::now();
    if (watch.state() == ConsoleWatch::State::kFailed || now >= deadline) break;
    if (watch.state() == ConsoleWatch::State::kReady && now >= ready_at + std::chrono::seconds(3)) {
      break;
    }
    pollfd p{out, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(out, buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      break;
    }
    (void)!::write(1, buf, static_cast<size_t>(n));
    if (log) std::fwrite(buf, 1, static_cast<size_t>(n), log);
    partial.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = partial.find('\n')) != std::string::npos;) {
      const bool was_ready = watch.state() == ConsoleWatch::State::kReady;
      watch.feed(partial.substr(0, nl));
      partial.erase(0, nl + 1);
      if (!was_ready && watch.state() == ConsoleWatch::State::kReady) ready_at = Clock::now();
    }
  }
  int result = 0;
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (watch.state() == ConsoleWatch::State::kReady) {
    std::printf("\ncairn-image boot: node ready in %lld ms (guest clock), %.1f s wall\n",
                watch.ready_ms(), wall);
    for (const auto& l : watch.timeline()) std::printf("  %s\n", l.c_str());
    std::fflush(stdout);
    // Phase 2: the power button, then wait for a clean exit (the console keeps draining).
    std::string error = qmp_execute(qmp, "system_powerdown");
    if (!error.empty())
      std::fprintf(stderr, "cairn-image boot: system_powerdown: %s\n", error.c_str());
    const auto off_deadline = Clock::now() + std::chrono::seconds(o.poweroff_timeout_seconds);
    while (Clock::now() < off_deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      pollfd p{out, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char buf[4096];
        const ssize_t n = ::read(out, buf, sizeof buf);
        if (n > 0) {
          (void)!::write(1, buf, static_cast<size_t>(n));
          if (log) std::fwrite(buf, 1, static_cast<size_t>(n), log);
          partial.append(buf, static_cast<size_t>(n));
          for (size_t nl; (nl = partial.find('\n')) != std::string::npos;) {
            watch.feed(partial.substr(0, nl));
            partial.erase(0, nl + 1);
          }
        }
      }
    }
    if (!exited) {
      std::fprintf(stderr, "cairn-image boot: the guest did not power off within %d s\n",
                   o.poweroff_timeout_seconds);
      print_tail(watch);
      result = 1;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "cairn-image boot: QEMU exited abnormally after power-off\n");
      result = 1;
    } else {
      std::printf("cairn-image boot: powered off cleanly\n");
    }
  } else {
    if (watch.state() == ConsoleWatch::State::kFailed) {
      std::fprintf(stderr, "cairn-image boot: boot failed: %s\n", watch.failure().c_str());
    } else if (eof) {
      std::fprintf(stderr, "cairn-image boot: QEMU exited before the node was ready\n");
    } else {
      std::fprintf(stderr, "cairn-image boot: the node was not ready within %d s\n",
                   o.timeout_seconds);
    }
    print_tail(watch);
    result = 1;
  }
  if (!exited && !wait_for(pid, 0, &status)) {
    ::kill(pid, SIGTERM);
    if (!wait_for(pid, 5000, &status)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
  }
  ::close(out);
  if (log) std::fclose(log);
  return result;
}

}  // namespace

int run_boot(const BootOptions& input) {
  BootOptions o = input;
  WorkDir work;
  const std::string qmp = (work.path / "qmp.sock").string();
  const std::string vars = (work.path / "efivars.fd").string();
  if (o.arch != "rpi" && o.kernel.empty()) fs::copy_file(firmware(o.arch).second, vars);
  if (o.arch == "rpi") {
    // QEMU's SD card must be a power of two in size: boot through an overlay of that size.
    const fs::path overlay = work.path / "sd.qcow2";
    const uint64_t size = next_power_of_two(fs::file_size(o.image));
    const std::string cmd = "qemu-img create -q -f qcow2 -F " + detect_format(o.image) + " -b '" +
                            fs::absolute(o.image).string() + "' '" + overlay.string() + "' " +
                            std::to_string(size);
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("qemu-img create failed: " + cmd);
    o.image = overlay;
  }
  const auto cmd = qemu_command(o, qmp, vars);
  if (o.batch) return run_batch(o, cmd, qmp);
  const pid_t pid = spawn(cmd, -1);
  int status = 0;
  // Ctrl-C belongs to the guest console (QEMU's -nographic handles it), not to us.
  struct sigaction ignore {
  }, old_int{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int boot_main(const std::vector<std::string>& args) {
  BootOptions options;
  try {
    options = parse_boot_args(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "cairn-image boot: %s\nusage: cairn-image boot IMAGE [--arch x86_64|arm64|rpi] "
                 "[--batch] [--timeout S] [--memory M] [--cpus N] [--kernel F --initrd F "
                 "--append S] [--dtb F] [--snapshot] [--console-log F] [-- QEMU-ARGS]\n",
                 e.what());
    return 2;
  }
  try {
    return run_boot(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-image boot: %s\n", e.what());
    return 1;
  }
}

}  // namespace cairn::image
