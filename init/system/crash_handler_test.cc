#include "init/system/crash_handler.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace cairn::init::system {
namespace {

int g_reboot_pipe = -1;

void fake_reboot(unsigned delay_s) {
  char msg[] = "REBOOT delay=?\n";
  msg[13] = static_cast<char>('0' + (delay_s % 10));
  (void)!write(g_reboot_pipe, msg, sizeof msg - 1);
  _exit(0);
}

// Runs `crash` in a child with the handler installed; returns what the handler wrote and
// whether the child was still alive (frozen, not dead) afterwards.
struct Outcome {
  std::string message;
  bool alive = false;
};

Outcome crash_child(CrashMode mode, void (*crash)()) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  pid_t child = fork();
  if (child == 0) {
    close(pipe_fds[0]);
    g_reboot_pipe = pipe_fds[1];
    CrashHandlerOptions options;
    options.mode = mode;
    options.reboot_delay_s = 0;
    options.message_fd = pipe_fds[1];
    options.reboot_child = fake_reboot;
    if (!install_crash_handler(options)) _exit(99);
    crash();
    _exit(98);  // not reached: the handler never returns
  }
  close(pipe_fds[1]);
  Outcome out;
  char buf[512];
  // Read until the expected text is complete (or EOF: the child died).
  const char* want = mode == CrashMode::Reboot ? "REBOOT" : "frozen";
  for (int i = 0; i < 200 && out.message.find(want) == std::string::npos; ++i) {
    ssize_t n = read(pipe_fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.message.append(buf, static_cast<size_t>(n));
  }
  usleep(200'000);  // a child that were to die after the message would be gone by now
  int status = 0;
  out.alive = waitpid(child, &status, WNOHANG) == 0;
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  close(pipe_fds[0]);
  return out;
}

// A real fault that no sanitizer intercepts first: a store to a read-only page.
void read_only_write() {
  void* page = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) _exit(97);
  *static_cast<volatile int*>(page) = 1;
}

TEST(CrashHandler, SegfaultFreezesInsteadOfExiting) {
  Outcome o = crash_child(CrashMode::Freeze, [] { raise(SIGSEGV); });
  EXPECT_NE(o.message.find("FATAL: PID 1 crashed with SIGSEGV (11)"), std::string::npos)
      << o.message;
  EXPECT_NE(o.message.find("frozen"), std::string::npos);
  EXPECT_TRUE(o.alive);
}

TEST(CrashHandler, RealFaultAndAbort) {
  Outcome fault = crash_child(CrashMode::Freeze, read_only_write);
  EXPECT_NE(fault.message.find("SIGSEGV"), std::string::npos) << fault.message;
  EXPECT_TRUE(fault.alive);
  Outcome abrt = crash_child(CrashMode::Freeze, [] { abort(); });
  EXPECT_NE(abrt.message.find("SIGABRT"), std::string::npos) << abrt.message;
  EXPECT_TRUE(abrt.alive);
}

TEST(CrashHandler, RebootModeRebootsFromAChild) {
  Outcome o = crash_child(CrashMode::Reboot, [] { raise(SIGBUS); });
  EXPECT_NE(o.message.find("SIGBUS"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("rebooting in 0 s"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("REBOOT delay=0"), std::string::npos) << o.message;
  EXPECT_TRUE(o.alive);  // PID 1 itself stays, the forked child reboots
}

TEST(CrashHandler, ModeFromCmdline) {
  EXPECT_EQ(crash_mode_from_cmdline(KernelCmdline::parse("quiet")), CrashMode::Freeze);
  EXPECT_EQ(crash_mode_from_cmdline(KernelCmdline::parse("cairn.crash=reboot")), CrashMode::Reboot);
  EXPECT_EQ(crash_mode_from_cmdline(KernelCmdline::parse("cairn.crash=freeze")), CrashMode::Freeze);
  EXPECT_EQ(crash_mode_from_cmdline(KernelCmdline::parse("cairn.crash=bogus")), CrashMode::Freeze);
}

}  // namespace
}  // namespace cairn::init::system
