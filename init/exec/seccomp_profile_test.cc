#include "init/exec/seccomp_profile.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace cairn::init {
namespace {

TEST(SeccompProfile, NoProfileNoFilter) {
  SeccompProgram program;
  EXPECT_EQ(build_seccomp_program(IsolationSpec{}, program), "");
  EXPECT_TRUE(program.empty());
}

TEST(SeccompProfile, DefaultCompiles) {
  IsolationSpec iso;
  iso.seccomp = "default";
  SeccompProgram program;
  ASSERT_EQ(build_seccomp_program(iso, program), "");
  EXPECT_FALSE(program.empty());
  EXPECT_EQ(program.program().len, program.size());
  EXPECT_LT(program.size(), 4096u);  // BPF_MAXINSNS
}

TEST(SeccompProfile, DefaultListHasTheDangerousOnes) {
  const auto& list = default_seccomp_deny_list();
  for (const char* name : {"kexec_load", "init_module", "finit_module", "reboot", "bpf", "keyctl",
                           "ptrace", "userfaultfd", "open_by_handle_at", "mount", "io_uring_setup",
                           "perf_event_open", "swapon", "iopl"}) {
    EXPECT_NE(std::find(list.begin(), list.end(), name), list.end()) << name;
  }
  for (auto name : list) EXPECT_TRUE(seccomp_syscall_known(name)) << name;
}

TEST(SeccompProfile, AllowAndDenyChangeTheProgram) {
  IsolationSpec iso;
  iso.seccomp = "default";
  SeccompProgram base, allowed, denied;
  ASSERT_EQ(build_seccomp_program(iso, base), "");
  iso.seccomp_allow = {"syslog", "ptrace"};
  ASSERT_EQ(build_seccomp_program(iso, allowed), "");
  iso.seccomp_allow.clear();
  iso.seccomp_deny = {"chroot", "mknod"};
  ASSERT_EQ(build_seccomp_program(iso, denied), "");
  EXPECT_NE(base.size(), allowed.size());
  EXPECT_NE(base.size(), denied.size());
}

TEST(SeccompProfile, DenyListWithoutProfile) {
  IsolationSpec iso;
  iso.seccomp_deny = {"chroot"};
  SeccompProgram program;
  ASSERT_EQ(build_seccomp_program(iso, program), "");
  EXPECT_FALSE(program.empty());
}

TEST(SeccompProfile, AllowingEverythingDeniedLeavesNoFilter) {
  IsolationSpec iso;
  iso.seccomp_deny = {"chroot"};
  iso.seccomp_allow = {"chroot"};
  SeccompProgram program;
  ASSERT_EQ(build_seccomp_program(iso, program), "");
  EXPECT_TRUE(program.empty());
}

TEST(SeccompProfile, ErrorsNameTheBadEntry) {
  SeccompProgram program;
  IsolationSpec iso;
  iso.seccomp = "strict";
  EXPECT_EQ(build_seccomp_program(iso, program),
            "unknown seccomp profile \"strict\" (known: \"default\")");
  iso.seccomp = "default";
  iso.seccomp_deny = {"fooo"};
  EXPECT_EQ(build_seccomp_program(iso, program), "unknown syscall \"fooo\" in seccomp-deny");
  iso.seccomp_deny.clear();
  iso.seccomp_allow = {"bar_baz"};
  EXPECT_EQ(build_seccomp_program(iso, program), "unknown syscall \"bar_baz\" in seccomp-allow");
  EXPECT_FALSE(seccomp_syscall_known("fooo"));
  EXPECT_TRUE(seccomp_syscall_known("openat"));
}

}  // namespace
}  // namespace cairn::init
