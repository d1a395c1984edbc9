// Loading a whole service directory (/etc/cairn/services/*.toml): every file is parsed, then
// the set is checked as a graph. A service with any problem is invalid and carries its
// diagnostics; every other service still loads (the supervisor marks invalid ones and runs
// the rest). Graph rules, each an error at the offending entry's file:line:col:
//   - `requires`, `after` and `members` must name services that exist;
//   - no dependency cycles (reported as a path, "a -> b -> a"); every service on the cycle
//     is invalid;
//   - a service is a member of at most one group;
//   - a service that `requires` an invalid service, or a group with an invalid member, is
//     invalid too (it could never start). `after` an invalid service is fine: ordering only.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/diagnostic.h"
#include "init/config/dependency_graph.h"
#include "init/config/service_file.h"

namespace cairn::init {

struct LoadedService {
  ServiceSpec spec;
  std::vector<Diagnostic> diagnostics;  // why it is invalid; empty = valid
  std::vector<ServiceRef> refs;

  bool valid() const { return diagnostics.empty(); }
  // The first diagnostic as one line (for ServiceStatus::error), or "".
  std::string error() const { return diagnostics.empty() ? "" : diagnostics.front().str(); }
};

struct ServiceSet {
  std::string dir;
  std::vector<LoadedService> services;  // sorted by name
  std::vector<Diagnostic> problems;     // about the directory itself (unreadable, ...)
  DependencyGraph graph;                // over the valid services

  const LoadedService* find(const std::string& name) const;
  // Valid services' specs, sorted by name.
  std::vector<ServiceSpec> valid_specs() const;
  size_t invalid_count() const;
  // Directory problems then every service's diagnostics, in name order.
  std::vector<Diagnostic> all_diagnostics() const;
};

// Reads DIR/*.toml (other files and subdirectories are ignored; hidden files too).
ServiceSet load_service_dir(const std::string& dir);
// The graph check on already parsed services (load_service_dir calls this; tests and
// reload can too). Sorts `services` by name, marks invalid ones, builds the graph.
ServiceSet check_services(std::vector<ParsedService> parsed, std::string dir = "");

// `cairn-init --check DIR`: prints every diagnostic and a one-line summary to `out`;
// returns 0 if every service is valid, 1 otherwise.
int check_service_dir(const std::string& dir, std::ostream& out);

}  // namespace cairn::init
