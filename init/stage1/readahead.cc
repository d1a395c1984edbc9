#include "init/stage1/readahead.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace cairn::init::stage1 {

std::vector<ReadaheadRange> readahead_ranges(const unsigned char* head, size_t head_size,
                                             uint64_t file_size) {
  const std::vector<ReadaheadRange> whole = {{0, file_size}};
  Elf64_Ehdr eh;
  if (head_size < sizeof eh) return whole;
  std::memcpy(&eh, head, sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return whole;
  }
  if (eh.e_phoff > head_size || eh.e_phnum > (head_size - eh.e_phoff) / sizeof(Elf64_Phdr)) {
    return whole;
  }
  std::vector<ReadaheadRange> ranges;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, head + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_filesz == 0 || ph.p_offset >= file_size) continue;
    uint64_t length = ph.p_filesz;
    if (length > file_size - ph.p_offset) length = file_size - ph.p_offset;
    ranges.push_back({ph.p_offset, length});
  }
  if (ranges.empty()) return whole;
  return ranges;
}

std::vector<std::string> parse_readahead_list(const std::string& text) {
  std::vector<std::string> paths;
  std::set<std::string> seen;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t begin = line.find_first_not_of(" \t");
    if (begin == std::string::npos || line[begin] == '#') continue;
    size_t end = line.find_last_not_of(" \t\r");
    std::string path = line.substr(begin, end - begin + 1);
    if (path[0] != '/') continue;  // relative paths have no meaning in the root
    if (seen.insert(path).second) paths.push_back(path);
  }
  return paths;
}

namespace {

// PATH resolved inside ROOT_FD, absolute symlinks included (the root is not "/" yet).
int open_in_root(int root_fd, const std::string& path) noexcept {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how));
}

}  // namespace

pid_t start_readahead(const std::string& root) noexcept {
  struct Job {
    int fd;
    std::vector<ReadaheadRange> ranges;
  };
  std::vector<Job> jobs;
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return -1;
  try {
    std::ifstream list(root + kReadaheadList);  // the list itself has no symlinks
    if (!list) return -1;
    std::stringstream text;
    text << list.rdbuf();
    for (const std::string& path : parse_readahead_list(text.str())) {
      int fd = open_in_root(root_fd, path);
      if (fd < 0) continue;
      struct stat st {};
      unsigned char head[4096];
      ssize_t n =
          ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? ::pread(fd, head, sizeof head, 0) : -1;
      if (n < 0) {
        ::close(fd);
        continue;
      }
      jobs.push_back(
          {fd, readahead_ranges(head, static_cast<size_t>(n), static_cast<uint64_t>(st.st_size))});
    }
  } catch (...) {
    // Out of memory: read ahead what was opened so far.
  }
  ::close(root_fd);
  pid_t pid = jobs.empty() ? -1 : ::fork();
  if (pid == 0) {
    // The child: only system calls. It runs on whichever CPU is idle while stage 1 goes on,
    // and each read's dm-verity hashing happens where the read completes.
    // readahead(2) reads at most the device's readahead window (read_ahead_kb, 128 KiB by
    // default, or its larger optimal I/O size) per call and returns once the reads are
    // submitted, so the ranges go in steps of that window.
    constexpr uint64_t kStep = 128 * 1024;
    for (const Job& job : jobs) {
      for (const ReadaheadRange& r : job.ranges) {
        for (uint64_t at = r.offset; at < r.offset + r.length; at += kStep) {
          uint64_t left = r.offset + r.length - at;
          ::readahead(job.fd, static_cast<off64_t>(at), left < kStep ? left : kStep);
        }
      }
    }
    ::_exit(0);
  }
  for (const Job& job : jobs) ::close(job.fd);
  return pid;
}

}  // namespace cairn::init::stage1
