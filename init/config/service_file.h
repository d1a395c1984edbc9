// Parsing one service file (services/*.toml, reference: docs/service-files.md) into a
// ServiceSpec. Every problem becomes a Diagnostic with file:line:col and a reason; unknown keys
// are errors. A file with any error is invalid as a whole (the supervisor never runs half a
// service). Loading-time code: allocates and may throw std::bad_alloc, nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.h"
#include "init/config/service_spec.h"

namespace cairn::init {

// A reference to another service in `requires`, `after` or `members`, with its position, so
// the dependency check (service_dir.h) can point at the offending entry.
struct ServiceRef {
  enum class Kind { Requires, After, Member };
  Kind kind = Kind::Requires;
  std::string name;
  int line = 0;
  int column = 0;
};

const char* to_string(ServiceRef::Kind kind) noexcept;  // "requires", "after", "members"

struct ParsedService {
  ServiceSpec spec;                     // filled as far as it parsed
  std::vector<Diagnostic> diagnostics;  // empty = valid
  std::vector<ServiceRef> refs;         // requires, after, members in file order

  bool valid() const { return diagnostics.empty(); }
};

// Service names: 1..64 of [A-Za-z0-9_.@-], not starting with '.' or '-'. Returns "" or why not.
std::string check_service_name(std::string_view name);

// Parses `text` as the service `name` read from `path`.
ParsedService parse_service(std::string_view text, const std::string& path,
                            const std::string& name);
// Reads `path`; the service name is the file name without its ".toml" suffix.
ParsedService parse_service_file(const std::string& path);

}  // namespace cairn::init
