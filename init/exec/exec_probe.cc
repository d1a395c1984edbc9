// A tiny program the spawn tests run as a service to look at itself from the inside:
//   exec_probe fds        -> the open descriptors, one per line (its own listing fd excluded)
//   exec_probe syscalls   -> "name errno" for syscalls the default seccomp profile denies
//   exec_probe alloc MIB  -> touches MIB MiB of memory (for the OOM test), then prints "done"
//   exec_probe x32        -> getpid through the x32 ABI (x86_64), prints "x32 <errno>"
//   exec_probe i386       -> getpid through int 0x80 (x86_64), prints "i386 <errno>"
#include <dirent.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int list_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 1;
  int own = dirfd(dir);
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    if (std::atoi(entry->d_name) == own) continue;
    std::printf("%s\n", entry->d_name);
  }
  closedir(dir);
  return 0;
}

void report(const char* name, long rc) {
  std::printf("%s %d\n", name, rc < 0 ? errno : 0);
}

// Runs a process-creating call; a child that does get created exits at once.
long child_call(long rc) {
  if (rc == 0) _exit(0);
  if (rc > 0) waitpid(static_cast<pid_t>(rc), nullptr, 0);
  return rc;
}

int probe_syscalls() {
  // Each call is harmless when allowed: a size query, an invalid argument, or a no-op.
  report("syslog", syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, nullptr, 0));
  report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
  report("unshare", syscall(SYS_unshare, CLONE_NEWUTS));
  report("personality", syscall(SYS_personality, 0xffffffffUL));     // query: allowed
  report("personality-odd", syscall(SYS_personality, 0x0040000UL));  // ADDR_NO_RANDOMIZE
  report("getpid", syscall(SYS_getpid));
  std::fflush(stdout);  // children must not flush our buffer again
  report("fork", child_call(fork()));
  report("clone-newuts", child_call(syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0)));
  clone_args args{};
  args.exit_signal = SIGCHLD;
  report("clone3", child_call(syscall(SYS_clone3, &args, sizeof args)));
  std::fflush(stdout);
  return 0;
}

// getpid through the x32 ABI (syscall number | __X32_SYSCALL_BIT): without a filter the
// kernel answers (or says ENOSYS without x32 support); a native-only filter kills us.
int x32_call() {
  long rc = syscall(0x40000000L | SYS_getpid);
  std::printf("x32 %d\n", rc < 0 ? errno : 0);
  return 0;
}

#if defined(__x86_64__)
// getpid through the i386 ABI (int 0x80, number 20); SIGSEGV without IA32 emulation.
int i386_call() {
  long rc;
  asm volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory", "rcx", "r11");
  std::printf("i386 %ld\n", rc < 0 ? -rc : 0);
  return 0;
}
#endif

int allocate(long mib) {
  const size_t chunk = 1 << 20;
  for (long i = 0; i < mib; ++i) {
    char* block = static_cast<char*>(std::malloc(chunk));
    if (block == nullptr) return 2;
    std::memset(block, 0x5a, chunk);
  }
  std::printf("done\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "fds") == 0) return list_fds();
  if (argc >= 2 && std::strcmp(argv[1], "syscalls") == 0) return probe_syscalls();
  if (argc >= 3 && std::strcmp(argv[1], "alloc") == 0) return allocate(std::atol(argv[2]));
  if (argc >= 2 && std::strcmp(argv[1], "x32") == 0) return x32_call();
#if defined(__x86_64__)
  if (argc >= 2 && std::strcmp(argv[1], "i386") == 0) return i386_call();
#endif
  std::fprintf(stderr, "usage: exec_probe fds|syscalls|alloc MIB|x32\n");
  return 64;
}
