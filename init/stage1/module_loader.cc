#include "init/stage1/module_loader.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

namespace cairn::init::stage1 {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string trimmed(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_blank(s[b])) ++b;
  while (e > b && is_blank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::vector<ModuleEntry> parse_module_list(const std::string& text) {
  std::vector<ModuleEntry> entries;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = trimmed(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    ModuleEntry entry;
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      entry.path = line;
      entry.needs_all_before = true;
    } else {
      entry.path = trimmed(line.substr(0, colon));
      size_t at = colon + 1;
      while (at < line.size()) {
        while (at < line.size() && is_blank(line[at])) ++at;
        size_t word = at;
        while (at < line.size() && !is_blank(line[at])) ++at;
        if (at > word) entry.needs.push_back(line.substr(word, at - word));
      }
    }
    if (entry.path.empty()) continue;  // ": x" names no module
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string module_name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".ko") == 0) name.resize(name.size() - 3);
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

int load_module_file(const std::string& path) noexcept {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int error = ::syscall(SYS_finit_module, fd, "", 0) == 0 || errno == EEXIST ? 0 : errno;
  ::close(fd);
  return error;
}

ModuleLoader::ModuleLoader(std::string base, std::vector<ModuleEntry> entries, LoadFn load,
                           int threads)
    : base_(std::move(base)), load_(std::move(load)), threads_wanted_(threads < 1 ? 1 : threads) {
  std::unordered_map<std::string, size_t> index;  // path -> its first line
  for (size_t i = 0; i < entries.size(); ++i) {
    ModuleEntry& e = entries[i];
    std::vector<size_t> needs;
    if (!e.needs_all_before) {
      // Only lines before this one count: a need listed later (or not at all) cannot be
      // waited for without the risk of waiting forever.
      for (const auto& need : e.needs) {
        auto it = index.find(need);
        if (it != index.end()) needs.push_back(it->second);
      }
    }
    index.emplace(e.path, i);
    paths_.push_back(std::move(e.path));
    names_.push_back(module_name_of(paths_.back()));
    needs_.push_back(std::move(needs));
    all_before_.push_back(e.needs_all_before);
  }
  taken_.assign(paths_.size(), false);
  tried_.assign(paths_.size(), false);
}

std::vector<ModuleEntry> in_list_order(const std::vector<std::string>& paths) {
  std::vector<ModuleEntry> entries;
  for (const auto& p : paths) entries.push_back({p, {}, true});
  return entries;
}

ModuleLoader::~ModuleLoader() {
  join_all();
}

void ModuleLoader::join_all() noexcept {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

size_t ModuleLoader::next_ready() const noexcept {
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (taken_[i]) continue;
    bool ready = !all_before_[i] || tried_prefix_ >= i;
    for (size_t n : needs_[i]) ready = ready && tried_[n];
    if (ready) return i;
  }
  return std::string::npos;
}

void ModuleLoader::run() noexcept {
  std::unique_lock<std::mutex> lock(mutex_);
  while (taken_count_ < paths_.size()) {
    size_t i = next_ready();
    if (i == std::string::npos) {
      // Everything left waits for a module another thread is loading now.
      tried_changed_.wait(lock);
      continue;
    }
    taken_[i] = true;
    ++taken_count_;
    lock.unlock();
    int error = load_(base_ + paths_[i]);
    lock.lock();
    if (error == 0) {
      ++loaded_;
    } else {
      try {
        warnings_.push_back("finit_module " + paths_[i] + ": " + std::strerror(error));
      } catch (...) {  // out of memory: the warning is lost, the boot goes on
      }
    }
    tried_[i] = true;
    while (tried_prefix_ < tried_.size() && tried_[tried_prefix_]) ++tried_prefix_;
    tried_changed_.notify_all();
  }
}

void ModuleLoader::start() noexcept {
  if (started_) return;
  started_ = true;
  for (int t = 0; t < threads_wanted_; ++t) {
    try {
      threads_.emplace_back([this] { run(); });
    } catch (...) {
      break;
    }
  }
  if (threads_.empty()) run();  // no thread (out of resources): load them all here
}

void ModuleLoader::wait_for(const std::string& name) noexcept {
  if (!started_) return;
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] != name) continue;
    std::unique_lock<std::mutex> lock(mutex_);
    tried_changed_.wait(lock, [&] { return bool(tried_[i]); });
    return;
  }
}

int ModuleLoader::finish(std::vector<std::string>* warnings) noexcept {
  if (!started_) start();
  join_all();
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    warnings->insert(warnings->end(), warnings_.begin(), warnings_.end());
  } catch (...) {
  }
  warnings_.clear();
  return loaded_;
}

}  // namespace cairn::init::stage1
