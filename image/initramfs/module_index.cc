#include "image/initramfs/module_index.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace cairn::image {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != ',') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Calls fn(line_number, trimmed_line) for every non-empty, non-comment line.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
  int number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    fn(number, line);
  }
}

[[noreturn]] void fail(const std::string& file, int line, const std::string& why) {
  throw std::runtime_error(file + ":" + std::to_string(line) + ": " + why);
}

bool valid_module_path(std::string_view p) {
  if (p.empty() || p.front() == '/' || p.find("..") != std::string_view::npos) return false;
  for (std::string_view suffix : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"}) {
    if (p.size() > suffix.size() && p.substr(p.size() - suffix.size()) == suffix) return true;
  }
  return false;
}

// "pre: a b post: c" -> pre={a,b}, post={c}.
void parse_softdep(const std::vector<std::string>& tokens, size_t from,
                   std::vector<std::string>& pre, std::vector<std::string>& post,
                   const std::string& file, int line, bool lenient = false) {
  // Some modules declare MODULE_SOFTDEP("gcm") without "pre:"; in a module's own .modinfo
  // (lenient) those count as "pre:", as modprobe does not reject them either.
  std::vector<std::string>* into = lenient ? &pre : nullptr;
  for (size_t i = from; i < tokens.size(); ++i) {
    if (tokens[i] == "pre:") {
      into = &pre;
    } else if (tokens[i] == "post:") {
      into = &post;
    } else if (into == nullptr) {
      fail(file, line, "softdep: expected 'pre:' or 'post:' before '" + tokens[i] + "'");
    } else {
      into->push_back(tokens[i]);
    }
  }
}

}  // namespace

std::string module_name(std::string_view p) {
  size_t slash = p.rfind('/');
  if (slash != std::string_view::npos) p.remove_prefix(slash + 1);
  for (std::string_view suffix : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"}) {
    if (p.size() > suffix.size() && p.substr(p.size() - suffix.size()) == suffix) {
      p.remove_suffix(suffix.size());
      break;
    }
  }
  std::string name(p);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

namespace {

// One modules.dep line: "path: dep dep ..." -> (path, deps).
std::pair<std::string, std::vector<std::string>> parse_dep_line(std::string_view l,
                                                                const std::string& file, int line) {
  size_t colon = l.find(':');
  if (colon == std::string_view::npos) fail(file, line, "expected 'module.ko: deps...'");
  std::string path(trim(l.substr(0, colon)));
  if (!valid_module_path(path)) fail(file, line, "not a module path: '" + path + "'");
  std::vector<std::string> deps;
  for (auto& dep : words(l.substr(colon + 1))) {
    if (!valid_module_path(dep)) fail(file, line, "not a module path: '" + dep + "'");
    deps.push_back(dep);
  }
  return {path, deps};
}

}  // namespace

ModuleDeps read_modules_dep(std::string_view text, const std::string& file) {
  ModuleDeps out;
  std::map<std::string, int> first_line;
  for_each_line(text, [&](int line, std::string_view l) {
    auto [path, deps] = parse_dep_line(l, file, line);
    auto [it, fresh] = first_line.emplace(path, line);
    if (!fresh)
      fail(file, line,
           "module '" + path + "' listed twice (first at line " + std::to_string(it->second) + ")");
    out[path] = std::move(deps);
  });
  return out;
}

void ModuleIndex::add_modules_dep(std::string_view text, const std::string& file) {
  for_each_line(text, [&](int line, std::string_view l) {
    auto [path, deps] = parse_dep_line(l, file, line);
    Module m;
    m.path = path;
    m.dep_paths = std::move(deps);
    std::string name = module_name(path);
    by_path_[path] = name;
    Module& slot = modules_[name];
    m.pre = std::move(slot.pre);  // softdeps may have been read first
    m.post = std::move(slot.post);
    slot = std::move(m);
  });
}

void ModuleIndex::add_modules_softdep(std::string_view text, const std::string& file) {
  for_each_line(text, [&](int line, std::string_view l) {
    auto tokens = words(l);
    if (tokens.size() < 2 || tokens[0] != "softdep") {
      fail(file, line, "expected 'softdep MODULE pre: ... post: ...'");
    }
    Module& m = modules_[module_name(tokens[1])];
    // depmod copies a module's MODULE_SOFTDEP("gcm") without "pre:" (cifs does this) into
    // modules.softdep as is: read it the way the .modinfo path does.
    parse_softdep(tokens, 2, m.pre, m.post, file, line, /*lenient=*/true);
  });
}

void ModuleIndex::add_modules_alias(std::string_view text, const std::string& file) {
  for_each_line(text, [&](int line, std::string_view l) {
    // Split on blanks only: device-tree aliases contain commas ("of:N*T*Cfsl,imx-uart").
    std::vector<std::string> tokens;
    std::istringstream in{std::string(l)};
    for (std::string t; in >> t;) tokens.push_back(t);
    if (tokens.size() != 3 || tokens[0] != "alias") {
      fail(file, line, "expected 'alias NAME MODULE'");
    }
    // Wildcard aliases (device ids) are for hotplug, never for naming a boot module.
    if (tokens[1].find_first_of("*?[") != std::string::npos) return;
    aliases_[module_name(tokens[1])].insert(module_name(tokens[2]));
  });
}

void ModuleIndex::add_modules_builtin(std::string_view text, const std::string& file) {
  for_each_line(text, [&](int line, std::string_view l) {
    if (!valid_module_path(l)) fail(file, line, "not a module path: '" + std::string(l) + "'");
    builtin_.insert(module_name(l));
  });
}

void ModuleIndex::add_module_info(const std::string& path,
                                  const std::vector<std::pair<std::string, std::string>>& info) {
  Module m;
  m.path = path;
  std::string name = module_name(path);
  for (const auto& [key, value] : info) {
    if (key == "name" && !value.empty()) {
      name = module_name(value);
    } else if (key == "depends") {
      for (auto& d : words(value)) m.dep_names.push_back(module_name(d));
    } else if (key == "softdep") {
      auto tokens = words(value);
      parse_softdep(tokens, 0, m.pre, m.post, path, 0, /*lenient=*/true);
    } else if (key == "alias" && value.find_first_of("*?[") == std::string::npos) {
      aliases_[module_name(value)].insert(name);
    }
  }
  // An alias seen before the name= key must point at the final name.
  for (const auto& [key, value] : info) {
    if (key == "alias" && name != module_name(path)) {
      aliases_[module_name(value)].erase(module_name(path));
      aliases_[module_name(value)].insert(name);
    }
  }
  by_path_[path] = name;
  modules_[name] = std::move(m);
}

std::vector<std::string> ModuleIndex::lookup(const std::string& request) const {
  std::string name = module_name(request);
  auto it = modules_.find(name);
  if (it != modules_.end() && !it->second.path.empty()) return {name};
  auto alias = aliases_.find(name);
  if (alias == aliases_.end()) return {};
  std::vector<std::string> out;
  for (const auto& target : alias->second) {
    auto m = modules_.find(target);
    if (m != modules_.end() && !m->second.path.empty()) out.push_back(target);
  }
  return out;
}

void ModuleIndex::visit(const std::string& name, const std::string& requested_by,
                        ModuleResolution& out, std::set<std::string>& done,
                        std::vector<std::string>& stack,
                        std::vector<std::pair<std::string, std::string>>& post_queue) const {
  if (done.count(name)) return;
  if (std::find(stack.begin(), stack.end(), name) != stack.end()) {
    std::string cycle;
    for (const auto& s : stack) cycle += s + " -> ";
    throw std::runtime_error("module dependency cycle: " + cycle + name);
  }
  const Module& m = modules_.at(name);
  stack.push_back(name);
  std::vector<std::string> deps;
  for (const auto& p : m.dep_paths) {
    auto it = by_path_.find(p);
    if (it == by_path_.end()) {
      throw std::runtime_error("module " + m.path + " depends on " + p +
                               ", which modules.dep does not list");
    }
    deps.push_back(it->second);
  }
  for (const auto& d : m.dep_names) {
    auto found = lookup(d);
    if (found.empty() && !builtin_.count(d)) {
      throw std::runtime_error("module " + m.path + " depends on '" + d +
                               "', which is neither a module nor built in");
    }
    deps.insert(deps.end(), found.begin(), found.end());
  }
  // A softdep on something the kernel lacks is not an error: modprobe ignores it too.
  for (const auto& s : m.pre) {
    auto found = lookup(s);
    deps.insert(deps.end(), found.begin(), found.end());
  }
  std::sort(deps.begin(), deps.end());
  deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
  for (const auto& d : deps) visit(d, "", out, done, stack, post_queue);
  stack.pop_back();
  done.insert(name);
  std::vector<std::string> needs;
  for (const auto& d : deps) needs.push_back(modules_.at(d).path);
  if (!requested_by.empty()) needs.push_back(requested_by);
  std::sort(needs.begin(), needs.end());
  needs.erase(std::unique(needs.begin(), needs.end()), needs.end());
  out.paths.push_back(m.path);
  out.needs.push_back(std::move(needs));
  for (const auto& s : m.post) {
    for (auto& found : lookup(s)) post_queue.emplace_back(found, m.path);
  }
}

ModuleResolution ModuleIndex::resolve(const std::vector<std::string>& names) const {
  ModuleResolution out;
  std::set<std::string> done;
  std::vector<std::string> stack;
  std::vector<std::pair<std::string, std::string>> queue;
  for (const auto& request : names) {
    auto found = lookup(request);
    if (found.empty()) {
      if (builtin_.count(module_name(request))) {
        out.builtin.push_back(request);
        continue;
      }
      throw std::runtime_error("kernel module '" + request +
                               "' is neither a module of this kernel nor built in");
    }
    for (const auto& f : found) queue.emplace_back(f, "");
    // post: softdeps found while visiting are loaded right after what asked for them.
    while (!queue.empty()) {
      auto [next, requested_by] = queue.front();
      queue.erase(queue.begin());
      visit(next, requested_by, out, done, stack, queue);
    }
  }
  return out;
}

}  // namespace cairn::image
