// Reading a whole build input (a generated index, a status database) into memory.
#pragma once

#include <filesystem>
#include <string>

namespace cairn::image {

// The file's bytes. Throws std::runtime_error "PATH: cannot read" or "PATH: read error".
std::string read_text(const std::filesystem::path& path);

}  // namespace cairn::image
