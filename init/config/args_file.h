// Operator flags files (MicroK8s style, e.g. /var/lib/cairn/args/datastore): extra arguments
// appended to a service's exec. One argument per line; surrounding whitespace is trimmed;
// blank lines and lines starting with '#' are ignored. A value wrapped in double quotes after
// '=' has them removed (--name="a b" -> --name=a b), as a shell would. Read at every start,
// so an edit takes effect on the next restart.
#pragma once

#include <string>
#include <vector>

namespace cairn::init {

inline constexpr size_t kMaxArgsFileBytes = 1 << 20;

struct ArgsFile {
  std::vector<std::string> args;
  std::string error;  // "" on success; a missing file is success with no args
  bool ok() const { return error.empty(); }
};

ArgsFile read_args_file(const std::string& path);
// The same rules applied to text already in memory (tests, fuzzing).
std::vector<std::string> parse_args_text(std::string_view text);

}  // namespace cairn::init
