// The readahead list and the ELF headers readahead reads are parsed by PID 1 in stage 1: any
// bytes give a list of absolute paths and ranges inside the file, never a crash or an
// out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "init/stage1/readahead.h"

using namespace cairn::init::stage1;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const std::string& path :
       parse_readahead_list(std::string(reinterpret_cast<const char*>(data), size))) {
    if (path.empty() || path[0] != '/') std::abort();
  }
  // The file's size is taken from the input's first 8 bytes, so ranges get clipped both ways.
  uint64_t file_size = size;
  if (size >= 8) std::memcpy(&file_size, data, 8);
  file_size %= (uint64_t(1) << 40);
  for (const ReadaheadRange& r : readahead_ranges(data, size, file_size)) {
    if (r.offset > file_size || r.length > file_size - r.offset) std::abort();
  }
  return 0;
}
