// Reading a whole small file (configuration, args files) safely for PID 1: O_CLOEXEC so the
// descriptor can never leak into a service, O_NONBLOCK + a regular-file check so a FIFO or
// device planted in a config directory cannot hang the reader, and a size cap.
#pragma once

#include <cstddef>
#include <string>

namespace cairn {

enum class ReadFileStatus { Ok, Missing, Error };

// Reads `path` into `out`. Missing: ENOENT/ENOTDIR (no error text). Error: `error` says why
// ("not a regular file", "larger than N bytes", strerror).
ReadFileStatus read_small_file(const std::string& path, size_t max_bytes, std::string& out,
                               std::string& error);

}  // namespace cairn
