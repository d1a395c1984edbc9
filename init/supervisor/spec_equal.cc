#include "init/supervisor/spec_equal.h"

#include <tuple>

namespace cairn::init {

namespace {

auto tie(const ReadySpec& r) {
  return std::tie(r.type, r.timeout, r.fd, r.socket, r.check, r.interval);
}
auto tie(const RestartSpec& r) {
  return std::tie(r.policy, r.delay, r.max_delay, r.burst, r.interval);
}
auto tie(const StopSpec& s) {
  return std::tie(s.signal, s.timeout);
}
auto tie(const LogSpec& l) {
  return std::tie(l.max_file_bytes, l.max_files, l.ring_bytes);
}

bool equal(const std::optional<CpuMax>& a, const std::optional<CpuMax>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->quota_us == b->quota_us && a->period_us == b->period_us);
}

bool equal(const ResourceSpec& a, const ResourceSpec& b) {
  return a.memory_max == b.memory_max && a.memory_high == b.memory_high &&
         a.cpu_weight == b.cpu_weight && equal(a.cpu_max, b.cpu_max) && a.pids_max == b.pids_max &&
         a.io_weight == b.io_weight;
}

bool equal(const std::vector<RlimitSpec>& a, const std::vector<RlimitSpec>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].resource != b[i].resource || a[i].soft != b[i].soft || a[i].hard != b[i].hard) {
      return false;
    }
  }
  return true;
}

bool equal(const IsolationSpec& a, const IsolationSpec& b) {
  return a.namespaces == b.namespaces && a.no_new_privileges == b.no_new_privileges &&
         a.capabilities == b.capabilities && a.ambient_capabilities == b.ambient_capabilities &&
         a.seccomp == b.seccomp && a.seccomp_allow == b.seccomp_allow &&
         a.seccomp_deny == b.seccomp_deny && a.read_only_paths == b.read_only_paths &&
         a.private_paths == b.private_paths && equal(a.rlimits, b.rlimits) &&
         a.hostname == b.hostname;
}

}  // namespace

bool spec_equal(const ServiceSpec& a, const ServiceSpec& b) noexcept {
  return a.name == b.name && a.file == b.file && a.description == b.description &&
         a.exec == b.exec && a.args_file == b.args_file && a.environment == b.environment &&
         a.user == b.user && a.group == b.group && a.working_directory == b.working_directory &&
         a.required == b.required && a.after == b.after && a.members == b.members &&
         a.enabled == b.enabled && tie(a.ready) == tie(b.ready) &&
         tie(a.restart) == tie(b.restart) && tie(a.stop) == tie(b.stop) &&
         equal(a.resources, b.resources) && equal(a.isolation, b.isolation) &&
         tie(a.log) == tie(b.log);
}

}  // namespace cairn::init
