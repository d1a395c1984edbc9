#include "init/exec/seccomp_profile.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>

namespace cairn::init {
namespace {

// Handled by dedicated rules rather than a plain EPERM: see build_seccomp_program().
constexpr std::string_view kConditionalClone = "clone";
constexpr std::string_view kConditionalClone3 = "clone3";
constexpr std::string_view kConditionalPersonality = "personality";

// Personas Docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the
// 0xffffffff query.
constexpr uint64_t kAllowedPersonas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

bool contains(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// Writes the BPF of `ctx` into `out` through a memfd (libseccomp 2.5 exports to an fd only).
std::string export_program(scmp_filter_ctx ctx, SeccompProgram& out) {
  int fd = memfd_create("cairn-seccomp", MFD_CLOEXEC);
  if (fd < 0) return std::string("memfd_create: ") + std::strerror(errno);
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) {
    ::close(fd);
    return std::string("seccomp_export_bpf: ") + std::strerror(-rc);
  }
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0 || size / sizeof(sock_filter) > BPF_MAXINSNS) {
    ::close(fd);
    return "seccomp_export_bpf: unexpected program size";
  }
  auto& filter = out.mutable_filter();
  filter.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  ssize_t n = pread(fd, filter.data(), static_cast<size_t>(size), 0);
  ::close(fd);
  if (n != size) return "seccomp_export_bpf: short read";
  return "";
}

// personality(2) restricted to the allowed personas. libseccomp 2.5 allows one comparison
// per argument in a rule, so this check is written by hand and placed in front of the
// libseccomp program: a personality call from the native ABI with a persona outside the
// list returns EPERM; everything else falls through to the libseccomp program (which starts
// with its own architecture check).
void prepend_personality_check(SeccompProgram& out) {
  constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
  constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr uint32_t kArg0Low = offsetof(seccomp_data, args);  // the kernel takes an int
#else
  constexpr uint32_t kArg0Low = offsetof(seccomp_data, args) + 4;
#endif
  constexpr size_t kPersonas = std::size(kAllowedPersonas);
  constexpr size_t kPrefix = 4 + kPersonas + 1 + 1;  // loads/compares, persona tests, ret
  const uint32_t arch = seccomp_arch_native();
  const int nr = seccomp_syscall_resolve_name("personality");
  std::vector<sock_filter> prefix;
  auto to_start = [&](size_t at) { return static_cast<uint8_t>(kPrefix - at - 1); };
  prefix.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArchOffset));
  prefix.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, to_start(1)));
  prefix.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNrOffset));
  prefix.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, to_start(3)));
  prefix.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg0Low));
  for (uint64_t persona : kAllowedPersonas) {
    size_t at = prefix.size();
    prefix.push_back(
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(persona), to_start(at), 0));
  }
  prefix.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
  auto& filter = out.mutable_filter();
  filter.insert(filter.begin(), prefix.begin(), prefix.end());
}

}  // namespace

const std::vector<std::string_view>& default_seccomp_deny_list() {
  static const std::vector<std::string_view> list = {
      // kernel code, boot and system-wide state
      "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
      "create_module", "get_kernel_syms", "query_module", "reboot", "swapon", "swapoff", "acct",
      "syslog", "quotactl", "quotactl_fd", "settimeofday", "stime", "clock_settime",
      "clock_adjtime",
      // raw hardware access
      "iopl", "ioperm", "vm86", "vm86old",
      // obsolete interfaces with a history of bugs
      "lookup_dcookie", "nfsservctl", "uselib", "_sysctl", "ustat", "sysfs",
      // the kernel keyring is not namespaced
      "add_key", "request_key", "keyctl",
      // inspecting or modifying other processes
      "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
      // large kernel attack surface / seccomp bypass
      "bpf", "perf_event_open", "userfaultfd", "open_by_handle_at", "name_to_handle_at",
      "io_uring_setup", "io_uring_enter", "io_uring_register",
      // escaping read-only/private paths and namespaces
      "mount", "umount", "umount2", "pivot_root", "setns", "unshare", "fsopen", "fsconfig",
      "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
      // conditional rules (see seccomp_profile.h)
      kConditionalClone, kConditionalClone3, kConditionalPersonality};
  return list;
}

bool seccomp_syscall_known(std::string_view name) {
  std::string copy(name);
  return seccomp_syscall_resolve_name(copy.c_str()) != __NR_SCMP_ERROR;
}

std::string build_seccomp_program(const IsolationSpec& isolation, SeccompProgram& out) {
  out = SeccompProgram{};
  std::string problem;
  std::vector<std::string> deny;
  if (isolation.seccomp == "default") {
    for (auto name : default_seccomp_deny_list()) deny.emplace_back(name);
  } else if (!isolation.seccomp.empty()) {
    return "unknown seccomp profile \"" + isolation.seccomp + "\" (known: \"default\")";
  }
  for (const auto& name : isolation.seccomp_allow) {
    if (!seccomp_syscall_known(name)) return "unknown syscall \"" + name + "\" in seccomp-allow";
  }
  for (const auto& name : isolation.seccomp_deny) {
    if (!seccomp_syscall_known(name)) return "unknown syscall \"" + name + "\" in seccomp-deny";
    if (!contains(deny, name)) deny.push_back(name);
  }
  std::erase_if(deny,
                [&](const std::string& name) { return contains(isolation.seccomp_allow, name); });
  if (deny.empty()) return "";

  // Only the native architecture: syscalls through another ABI (i386 int 0x80 or x32 on
  // x86_64, arm32 on arm64) hit libseccomp's bad-arch action and kill the process, so the
  // list cannot be sidestepped.
  Context ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return "seccomp_init failed";
  bool explicit_deny_clone = contains(isolation.seccomp_deny, kConditionalClone);
  bool explicit_deny_personality = contains(isolation.seccomp_deny, kConditionalPersonality);
  bool restrict_personality = false;
  for (const auto& name : deny) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr < 0) continue;  // not a syscall of this architecture
    int rc;
    if (name == kConditionalClone && !explicit_deny_clone) {
      // clone(2) with any namespace flag: EPERM (flags are argument 0 on x86_64 and arm64).
      rc = 0;
      // Any bit of the mask set: for each flag, deny when that bit is set.
      for (int bit = 0; bit < 64; ++bit) {
        uint64_t flag = uint64_t{1} << bit;
        if ((kNamespaceFlags & flag) == 0) continue;
        // (SCMP_A0() is a C compound literal; spelled out for C++.)
        scmp_arg_cmp compare{0, SCMP_CMP_MASKED_EQ, flag, flag};
        rc = seccomp_rule_add_array(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 1, &compare);
        if (rc < 0) break;
      }
    } else if (name == kConditionalClone3 && !contains(isolation.seccomp_deny, name)) {
      // ENOSYS makes libc fall back to clone(2), where the flags can be inspected.
      rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    } else if (name == kConditionalPersonality && !explicit_deny_personality) {
      restrict_personality = true;  // hand-written prefix below (one compare per arg here)
      rc = 0;
    } else {
      rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0);
    }
    if (rc < 0) return "seccomp rule for \"" + name + "\": " + std::strerror(-rc);
  }
  problem = export_program(ctx.get(), out);
  if (!problem.empty() || !restrict_personality) return problem;
  prepend_personality_check(out);
  return "";
}

}  // namespace cairn::init
