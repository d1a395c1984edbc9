// Seccomp profiles for services, compiled with libseccomp into a classic BPF program before
// the fork (the child only calls prctl(PR_SET_SECCOMP) with it). The default profile allows
// everything except the syscalls a service never needs (docs/isolation.md lists them), in
// the spirit of Docker's default deny list. Per service, `seccomp-allow` removes names from
// the deny list and `seccomp-deny` adds names (denied with EPERM).
#pragma once

#include <linux/filter.h>

#include <string>
#include <string_view>
#include <vector>

#include "init/config/service_spec.h"

namespace cairn::init {

// A compiled filter, ready for prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program()).
class SeccompProgram {
 public:
  bool empty() const { return filter_.empty(); }
  size_t size() const { return filter_.size(); }
  // Points into this object: keep it alive and unchanged until the child has used it.
  sock_fprog program() const {
    return sock_fprog{static_cast<unsigned short>(filter_.size()),
                      const_cast<sock_filter*>(filter_.data())};
  }
  const std::vector<sock_filter>& filter() const { return filter_; }
  std::vector<sock_filter>& mutable_filter() { return filter_; }

 private:
  std::vector<sock_filter> filter_;
};

// The syscalls the "default" profile denies with EPERM, in documentation order. (clone3 is
// answered ENOSYS instead so libc falls back to clone(2), whose namespace flags are denied;
// personality(2) is allowed only for the harmless personas Docker allows.)
const std::vector<std::string_view>& default_seccomp_deny_list();

// True if libseccomp knows `name` as a syscall on some architecture (for validating
// seccomp-allow/seccomp-deny in service files).
bool seccomp_syscall_known(std::string_view name);

// Builds the program for `isolation`: seccomp "" with an empty deny list gives an empty
// program (no filter); "default" the default profile; "" with seccomp-deny names only those.
// Syscalls that do not exist on this architecture are skipped silently. Returns "" or a
// reason naming the bad entry ("unknown syscall \"fooo\" in seccomp-deny", or an unknown
// profile name).
std::string build_seccomp_program(const IsolationSpec& isolation, SeccompProgram& out);

}  // namespace cairn::init
