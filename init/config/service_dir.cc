#include "init/config/service_dir.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

namespace cairn::init {
namespace {

Diagnostic at_ref(const LoadedService& service, const ServiceRef& ref, std::string message) {
  return {service.spec.file, ref.line, ref.column, std::move(message)};
}

const ServiceRef* find_ref(const LoadedService& service, const std::string& name,
                           std::optional<ServiceRef::Kind> kind = std::nullopt) {
  for (const auto& ref : service.refs) {
    if (ref.name == name && (!kind || ref.kind == *kind)) return &ref;
  }
  return nullptr;
}

// Diagnostic at the reference from `service` to `name`, or at the file if there is none
// (an implicit edge, such as a member's inherited ordering).
Diagnostic at_name(const LoadedService& service, const std::string& name, std::string message) {
  if (const ServiceRef* ref = find_ref(service, name)) return at_ref(service, *ref, message);
  return {service.spec.file, 0, 0, std::move(message)};
}

void check_names(std::vector<LoadedService>& services, const std::map<std::string, size_t>& index) {
  for (auto& service : services) {
    for (const auto& ref : service.refs) {
      if (index.count(ref.name)) continue;
      service.diagnostics.push_back(at_ref(service, ref,
                                           std::string(to_string(ref.kind)) +
                                               ": no service named \"" + ref.name + "\" (no " +
                                               ref.name + ".toml in the service directory)"));
    }
  }
}

void check_groups(std::vector<LoadedService>& services) {
  std::map<std::string, std::string> owner;  // member -> first group (name order)
  for (auto& service : services) {
    for (const auto& member : service.spec.members) {
      auto [it, inserted] = owner.emplace(member, service.spec.name);
      if (inserted) continue;
      const ServiceRef* ref = find_ref(service, member, ServiceRef::Kind::Member);
      service.diagnostics.push_back(at_ref(service, *ref,
                                           "members: \"" + member +
                                               "\" is already a member of group \"" + it->second +
                                               "\"; a service belongs to at most one group"));
    }
  }
}

std::vector<ServiceSpec> specs_of_valid(const std::vector<LoadedService>& services) {
  std::vector<ServiceSpec> specs;
  for (const auto& s : services) {
    if (s.valid()) specs.push_back(s.spec);
  }
  return specs;
}

void reject_cycles(std::vector<LoadedService>& services,
                   const std::map<std::string, size_t>& index) {
  // Each round removes one cycle's services; bounded by the number of services.
  for (size_t round = 0; round <= services.size(); ++round) {
    DependencyGraph graph(specs_of_valid(services));
    auto cycle = graph.find_cycle();
    if (!cycle) return;
    std::string path = format_cycle(*cycle);
    for (size_t i = 0; i + 1 < cycle->size(); ++i) {
      LoadedService& service = services[index.at((*cycle)[i])];
      service.diagnostics.push_back(at_name(service, (*cycle)[i + 1], "dependency cycle: " + path));
    }
  }
}

void propagate_invalid(std::vector<LoadedService>& services,
                       const std::map<std::string, size_t>& index) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto& service : services) {
      if (!service.valid()) continue;
      for (const auto& ref : service.refs) {
        if (ref.kind == ServiceRef::Kind::After) continue;
        auto it = index.find(ref.name);
        if (it == index.end() || services[it->second].valid()) continue;
        service.diagnostics.push_back(
            at_ref(service, ref,
                   std::string(to_string(ref.kind)) + ": \"" + ref.name +
                       "\" is invalid, so this service cannot start either"));
        changed = true;
        break;
      }
    }
  }
}

bool ends_with_toml(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0;
}

}  // namespace

const LoadedService* ServiceSet::find(const std::string& name) const {
  auto it = std::lower_bound(
      services.begin(), services.end(), name,
      [](const LoadedService& s, const std::string& n) { return s.spec.name < n; });
  return it != services.end() && it->spec.name == name ? &*it : nullptr;
}

std::vector<ServiceSpec> ServiceSet::valid_specs() const {
  return specs_of_valid(services);
}

size_t ServiceSet::invalid_count() const {
  return static_cast<size_t>(std::count_if(services.begin(), services.end(),
                                           [](const LoadedService& s) { return !s.valid(); }));
}

std::vector<Diagnostic> ServiceSet::all_diagnostics() const {
  std::vector<Diagnostic> all = problems;
  for (const auto& s : services) all.insert(all.end(), s.diagnostics.begin(), s.diagnostics.end());
  return all;
}

ServiceSet check_services(std::vector<ParsedService> parsed, std::string dir) {
  ServiceSet set;
  set.dir = std::move(dir);
  std::sort(parsed.begin(), parsed.end(), [](const ParsedService& a, const ParsedService& b) {
    return a.spec.name < b.spec.name;
  });
  std::map<std::string, size_t> index;
  for (auto& p : parsed) {
    if (index.count(p.spec.name)) {
      set.problems.push_back(
          {p.spec.file, 0, 0, "a second service named \"" + p.spec.name + "\"; ignored"});
      continue;
    }
    index[p.spec.name] = set.services.size();
    set.services.push_back({std::move(p.spec), std::move(p.diagnostics), std::move(p.refs)});
  }
  check_names(set.services, index);
  check_groups(set.services);
  reject_cycles(set.services, index);
  propagate_invalid(set.services, index);
  set.graph = DependencyGraph(specs_of_valid(set.services));
  return set;
}

ServiceSet load_service_dir(const std::string& dir) {
  std::vector<ParsedService> parsed;
  std::vector<Diagnostic> problems;
  std::unique_ptr<DIR, int (*)(DIR*)> handle(opendir(dir.c_str()), closedir);
  if (!handle) {
    problems.push_back(
        {dir, 0, 0, std::string("cannot open service directory: ") + std::strerror(errno)});
  } else {
    std::vector<std::string> names;
    while (dirent* entry = readdir(handle.get())) {
      std::string name = entry->d_name;
      if (name.empty() || name[0] == '.' || !ends_with_toml(name)) continue;
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string path = dir + (dir.empty() || dir.back() == '/' ? "" : "/") + name;
      struct stat st {};
      if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      parsed.push_back(parse_service_file(path));
    }
  }
  ServiceSet set = check_services(std::move(parsed), dir);
  set.problems.insert(set.problems.begin(), problems.begin(), problems.end());
  return set;
}

int check_service_dir(const std::string& dir, std::ostream& out) {
  ServiceSet set = load_service_dir(dir);
  for (const auto& d : set.all_diagnostics()) out << d.str() << '\n';
  size_t invalid = set.invalid_count();
  out << dir << ": " << set.services.size() << " service" << (set.services.size() == 1 ? "" : "s")
      << ", " << (set.services.size() - invalid) << " valid, " << invalid << " invalid";
  if (!set.problems.empty()) out << ", " << set.problems.size() << " other problem(s)";
  out << '\n';
  return invalid == 0 && set.problems.empty() ? 0 : 1;
}

}  // namespace cairn::init
