#include "init/log/rotating_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace cairn::init {

RotatingFile::RotatingFile(int dir_fd, std::string name, uint64_t max_bytes, int max_files)
    : dir_fd_(dir_fd),
      name_(std::move(name) + ".log"),
      max_bytes_(max_bytes == 0 ? 1 : max_bytes),
      max_files_(max_files < 1 ? 1 : max_files) {}

RotatingFile::~RotatingFile() {
  flush();
  if (fd_ >= 0) ::close(fd_);
}

void RotatingFile::set_limits(uint64_t max_bytes, int max_files) {
  max_bytes_ = max_bytes == 0 ? 1 : max_bytes;
  max_files_ = max_files < 1 ? 1 : max_files;
}

bool RotatingFile::open_current() {
  if (fd_ >= 0) return true;
  fd_ = ::openat(dir_fd_, name_.c_str(),
                 O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
  if (fd_ < 0) return false;
  struct stat st;
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

void RotatingFile::rotate() {
  flush();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (max_files_ == 1) {
    // No history kept: start the one file over.
    int fd = ::openat(dir_fd_, name_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) ::close(fd);
  } else {
    for (int i = max_files_ - 1; i >= 1; --i) {
      std::string from = i == 1 ? name_ : name_ + "." + std::to_string(i - 1);
      std::string to = name_ + "." + std::to_string(i);
      ::renameat(dir_fd_, from.c_str(), dir_fd_, to.c_str());  // ENOENT for missing ones: fine
    }
  }
  size_ = 0;
  ++rotations_;
}

void RotatingFile::add_line(std::string_view line) {
  if (fd_ < 0 && !open_current()) {
    ++dropped_;
    return;
  }
  if (size_ + pending_.size() > 0 && size_ + pending_.size() + line.size() > max_bytes_) {
    rotate();
    if (!open_current()) {
      ++dropped_;
      return;
    }
  }
  pending_.append(line);
  ++pending_lines_;
}

uint64_t RotatingFile::flush() {
  if (pending_.empty()) return 0;
  uint64_t dropped_now = 0;
  ssize_t n = -1;
  if (fd_ >= 0) {
    do {
      n = ::write(fd_, pending_.data(), pending_.size());
    } while (n < 0 && errno == EINTR);
  }
  if (n < 0 || static_cast<size_t>(n) != pending_.size()) {
    dropped_now = pending_lines_;  // a short write keeps its prefix; count the batch as lost
  }
  if (n > 0) size_ += static_cast<uint64_t>(n);
  dropped_ += dropped_now;
  pending_.clear();
  pending_lines_ = 0;
  return dropped_now;
}

}  // namespace cairn::init
