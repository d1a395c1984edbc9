#include "init/stage1/module_loader.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace cairn::init::stage1 {

std::vector<std::string> parse_module_list(const std::string& text) {
  std::vector<std::string> paths;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    paths.push_back(std::move(line));
  }
  return paths;
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

ModuleLoader::ModuleLoader(std::string base, std::vector<std::string> paths, LoadFn load)
    : base_(std::move(base)), paths_(std::move(paths)), load_(std::move(load)) {
  for (const auto& p : paths_) names_.push_back(module_name_of(p));
}

ModuleLoader::~ModuleLoader() {
  if (thread_.joinable()) thread_.join();
}

void ModuleLoader::run() noexcept {
  for (size_t i = 0; i < paths_.size(); ++i) {
    int error = load_(base_ + paths_[i]);
    std::lock_guard<std::mutex> lock(mutex_);
    if (error == 0) {
      ++loaded_;
    } else {
      try {
        warnings_.push_back("finit_module " + paths_[i] + ": " + std::strerror(error));
      } catch (...) {  // out of memory: the warning is lost, the boot goes on
      }
    }
    tried_ = i + 1;
    tried_changed_.notify_all();
  }
}

void ModuleLoader::start() noexcept {
  if (started_) return;
  started_ = true;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    run();  // no thread (out of resources): load them all here, in order
  }
}

void ModuleLoader::wait_for(const std::string& name) noexcept {
  if (!started_) return;
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] != name) continue;
    std::unique_lock<std::mutex> lock(mutex_);
    tried_changed_.wait(lock, [&] { return tried_ > i; });
    return;
  }
}

int ModuleLoader::finish(std::vector<std::string>* warnings) noexcept {
  if (!started_) start();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    warnings->insert(warnings->end(), warnings_.begin(), warnings_.end());
  } catch (...) {
  }
  warnings_.clear();
  return loaded_;
}

}  // namespace cairn::init::stage1
