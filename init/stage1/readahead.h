// Boot readahead: stage 1 reads the enabled services' executables into the page cache in
// the background (a forked child), while it prepares /var and stage 2 starts, so the services'
// exec finds them there instead of faulting each page in through dm-verity. Under QEMU TCG a cold
// exec of cairn-datastore spent ~1-2 s on such faults (docs/image.md "Boot time"). Peers do the
// same (systemd-readahead, Ubuntu's ureadahead).
//
// The list is a file in the root, written by cairn-image (kReadaheadList): cairn-init (exec'd
// by stage 1 right after) and then the services' executables, one absolute path per line,
// '#' comments and blank lines ignored. Missing list or files: nothing is read; readahead
// never stops a boot.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cairn::init::stage1 {

inline constexpr const char* kReadaheadList = "/usr/share/cairn/readahead";

struct ReadaheadRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// The parts of a file worth reading ahead, from its first bytes (HEAD, at least the ELF
// header and program headers when the file is ELF): for a 64-bit little-endian ELF file
// its PT_LOAD segments (not the symbol tables after them), clipped to FILE_SIZE; otherwise,
// or when the headers do not fit in HEAD or are inconsistent, the whole file.
std::vector<ReadaheadRange> readahead_ranges(const unsigned char* head, size_t head_size,
                                             uint64_t file_size);

// The paths of a readahead list's text (see above), in order, without duplicates.
std::vector<std::string> parse_readahead_list(const std::string& text);

// Opens ROOT + every path of ROOT + kReadaheadList and forks a child that reads their
// ranges ahead (readahead(2)) and exits; the parent does not wait (PID 1 of stage 2 reaps the
// child). Returns the child's pid, or -1 when there was nothing to read or fork failed.
pid_t start_readahead(const std::string& root) noexcept;

}  // namespace cairn::init::stage1
