// Fuzzes what a service can send PID 1: sd_notify datagrams (any bytes), and the readiness
// socket targets and /proc/<pid>/cgroup texts the readiness code parses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "init/supervisor/readiness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cairn::init::NotifyMessage m = cairn::init::parse_notify_message(text);
  if (m.main_pid < 0) __builtin_trap();
  if (m.status && m.status->size() > 512) __builtin_trap();
  cairn::init::SocketTarget target;
  std::string error;
  if (cairn::init::parse_socket_target(text, target, error)) {
    if (target.length == 0 || target.length > sizeof target.address) __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap();
  }
  cairn::init::cgroup_line_matches(text, "/cairn/service");
  return 0;
}
