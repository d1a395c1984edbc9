#include "init/supervisor/spec_equal.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace cairn::init {
namespace {

TEST(SpecEqual, EveryFieldMatters) {
  std::vector<std::function<void(ServiceSpec&)>> flips = {
      [](ServiceSpec& s) { s.name = "x"; },
      [](ServiceSpec& s) { s.file = "x"; },
      [](ServiceSpec& s) { s.description = "x"; },
      [](ServiceSpec& s) { s.exec.push_back("x"); },
      [](ServiceSpec& s) { s.args_file = "x"; },
      [](ServiceSpec& s) {
        s.environment.push_back({"A", "B"});
      },
      [](ServiceSpec& s) { s.user = "x"; },
      [](ServiceSpec& s) { s.group = "x"; },
      [](ServiceSpec& s) { s.working_directory = "x"; },
      [](ServiceSpec& s) { s.required.push_back("x"); },
      [](ServiceSpec& s) { s.after.push_back("x"); },
      [](ServiceSpec& s) { s.members.push_back("x"); },
      [](ServiceSpec& s) { s.enabled = false; },
      [](ServiceSpec& s) { s.ready.type = ReadyType::Fd; },
      [](ServiceSpec& s) { s.ready.timeout = Duration(1); },
      [](ServiceSpec& s) { s.ready.fd = 5; },
      [](ServiceSpec& s) { s.ready.socket = "x"; },
      [](ServiceSpec& s) { s.ready.check.push_back("x"); },
      [](ServiceSpec& s) { s.ready.interval = Duration(1); },
      [](ServiceSpec& s) { s.restart.policy = RestartPolicy::Never; },
      [](ServiceSpec& s) { s.restart.delay = Duration(1); },
      [](ServiceSpec& s) { s.restart.max_delay = Duration(1); },
      [](ServiceSpec& s) { s.restart.burst = 1; },
      [](ServiceSpec& s) { s.restart.interval = Duration(1); },
      [](ServiceSpec& s) { s.stop.signal = SIGINT; },
      [](ServiceSpec& s) { s.stop.timeout = Duration(1); },
      [](ServiceSpec& s) { s.resources.memory_max = 1; },
      [](ServiceSpec& s) { s.resources.memory_high = 1; },
      [](ServiceSpec& s) { s.resources.cpu_weight = 1; },
      [](ServiceSpec& s) { s.resources.cpu_max = CpuMax{}; },
      [](ServiceSpec& s) { s.resources.pids_max = 1; },
      [](ServiceSpec& s) { s.resources.io_weight = 1; },
      [](ServiceSpec& s) { s.isolation.namespaces.push_back(Namespace::Net); },
      [](ServiceSpec& s) { s.isolation.no_new_privileges = true; },
      [](ServiceSpec& s) { s.isolation.capabilities = std::vector<int>{}; },
      [](ServiceSpec& s) { s.isolation.ambient_capabilities.push_back(1); },
      [](ServiceSpec& s) { s.isolation.seccomp = "default"; },
      [](ServiceSpec& s) { s.isolation.seccomp_allow.push_back("x"); },
      [](ServiceSpec& s) { s.isolation.seccomp_deny.push_back("x"); },
      [](ServiceSpec& s) { s.isolation.read_only_paths.push_back("x"); },
      [](ServiceSpec& s) { s.isolation.private_paths.push_back("x"); },
      [](ServiceSpec& s) { s.isolation.rlimits.push_back(RlimitSpec{}); },
      [](ServiceSpec& s) { s.isolation.hostname = "x"; },
      [](ServiceSpec& s) { s.log.max_file_bytes = 1; },
      [](ServiceSpec& s) { s.log.max_files = 1; },
      [](ServiceSpec& s) { s.log.ring_bytes = 1; },
  };
  ServiceSpec base;
  EXPECT_TRUE(spec_equal(base, base));
  for (size_t i = 0; i < flips.size(); ++i) {
    ServiceSpec other = base;
    flips[i](other);
    EXPECT_FALSE(spec_equal(base, other)) << "flip #" << i << " not detected";
  }
}

}  // namespace
}  // namespace cairn::init
