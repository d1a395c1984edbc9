// Runs a filter program (a compressor or decompressor) over bytes: input on its stdin, its
// stdout returned. Used for gzip -n / zstd on the archive and xz/zstd -d on modules.
#pragma once

#include <string>
#include <vector>

namespace cairn::image {

// Throws std::runtime_error naming the program if it cannot be started, is killed or exits
// non-zero (its stderr is included in the message).
std::string run_filter(const std::vector<std::string>& argv, const std::string& input);

}  // namespace cairn::image
