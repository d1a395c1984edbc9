// libFuzzer target for the text parsers of init/exec: /etc/passwd + /etc/group resolution
// (credentials.h) and the cgroup "key value" / controller-list / mountinfo readers
// (cgroup.h).
// Input: "<user>\0<group>\0<passwd text>\0<group text>\0<cgroup file text>".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "init/exec/cgroup.h"
#include "init/exec/credentials.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view parts[5];
  for (auto& part : parts) {
    size_t end = input.find('\0');
    part = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
  }
  cairn::init::CredentialDatabases db;
  db.passwd = std::string(parts[2]);
  db.group = std::string(parts[3]);
  cairn::init::Credentials credentials;
  std::string error = cairn::init::resolve_credentials(parts[0], parts[1], db, credentials);
  if (error.empty() && credentials.change) {
    // A resolved identity is never (uid_t)-1 and always carries its own gid first.
    if (credentials.uid == static_cast<uid_t>(-1) || credentials.groups.empty() ||
        credentials.groups.front() != credentials.gid) {
      __builtin_trap();
    }
  }
  uint64_t value = 0;
  for (const char* key : {"populated", "frozen", "oom_kill"}) {
    cairn::init::parse_keyed_value(parts[4], key, value);
  }
  unsigned controllers = cairn::init::parse_cgroup_controllers(parts[4]);
  (void)cairn::init::format_cgroup_controllers(controllers);
  std::string mount = cairn::init::find_cgroup2_mount_in(parts[4]);
  if (!mount.empty() && mount[0] != '/') __builtin_trap();
  return 0;
}
