// Resolving a service's user/group to numeric ids without NSS (cairn-init is linked
// statically): /etc/passwd and /etc/group are read directly. Runs before the fork.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace cairn::init {

struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (includes gid); empty for root services
  bool change = false;        // false: user and group were both "" (stay root, keep groups)
};

// Rules (docs/isolation.md):
// - user "" = root (uid 0). A name is looked up in <etc>/passwd; a decimal number is taken as
//   the uid (its passwd entry, if any, supplies the primary group and the name).
// - group "" = the user's primary group from passwd; for a numeric uid without a passwd
//   entry, gid = uid. A name is looked up in <etc>/group; a decimal number is the gid.
// - supplementary groups: the primary gid plus every group in <etc>/group that lists the
//   user's name as a member.
// Returns "" or a reason ("user \"www\" not found in /etc/passwd").
std::string resolve_credentials(std::string_view user, std::string_view group, Credentials& out,
                                const std::string& etc_dir = "/etc");

// The same over databases already in memory (for tests and the fuzz target); the paths are
// only used in messages.
struct CredentialDatabases {
  std::string passwd, group;  // file contents
  std::string passwd_path = "/etc/passwd", group_path = "/etc/group";
  bool have_passwd = true, have_group = true;  // false: "cannot read <path>"
};
std::string resolve_credentials(std::string_view user, std::string_view group,
                                const CredentialDatabases& databases, Credentials& out);

}  // namespace cairn::init
