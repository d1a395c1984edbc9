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

}  // namespace cairn::init
