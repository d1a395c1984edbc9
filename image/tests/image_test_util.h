// Helpers for the tests that run the real cairn-image binary and inspect real images with the
// standard tools (sfdisk, veritysetup, mtools, dumpe2fs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cairn::image::testing {

struct Result {
  int status = 0;  // exit status, or 128 + signal
  std::string out, err;
};

// Runs argv (no shell) and collects its output. `term_after_line`: when stderr shows a line
// containing it, SIGTERM the process (to test interruption).
Result run_tool(const std::vector<std::string>& argv, const std::string& term_after_line = "");

// Paths of the build tree the test binary lives in (<build>/tests/X): <build>.
std::filesystem::path build_dir();
std::filesystem::path source_dir();  // the repository (CAIRN_SOURCE_DIR at compile time)

// Copies `size` bytes at `offset` of `image` into `out`.
void extract(const std::filesystem::path& image, uint64_t offset, uint64_t size,
             const std::filesystem::path& out);

std::string read_file(const std::filesystem::path& file);
// The first capture group of `pattern` in `text`, or "".
std::string find(const std::string& text, const std::string& pattern);

}  // namespace cairn::image::testing
