// One service's log file under the log directory, rotated by size:
//   NAME.log -> NAME.log.1 -> ... -> NAME.log.(max_files-1) (the oldest is replaced).
// Lines are batched in memory per wake-up and written with one write(2); a failed or short
// write drops the batch and counts its lines (a full or dead disk never blocks PID 1 in
// retries). Files are opened O_APPEND|O_CLOEXEC relative to the directory fd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::init {

class RotatingFile {
 public:
  // `dir_fd` is borrowed (the hub owns it and outlives this object).
  RotatingFile(int dir_fd, std::string name, uint64_t max_bytes, int max_files);
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Queues one line (with its '\n'); rotates first when it would not fit the current file.
  void add_line(std::string_view line);
  // Writes what is queued. Returns the number of lines dropped by this flush.
  uint64_t flush();
  void set_limits(uint64_t max_bytes, int max_files);

  uint64_t dropped() const { return dropped_; }
  uint64_t rotations() const { return rotations_; }
  uint64_t file_size() const { return size_ + pending_.size(); }

 private:
  bool open_current();
  void rotate();

  int dir_fd_;
  std::string name_;  // "NAME.log"
  uint64_t max_bytes_;
  int max_files_;
  int fd_ = -1;
  uint64_t size_ = 0;  // bytes in the current file
  std::string pending_;
  uint64_t pending_lines_ = 0;
  uint64_t dropped_ = 0;
  uint64_t rotations_ = 0;
};

}  // namespace cairn::init
