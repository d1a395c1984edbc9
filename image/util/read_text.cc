#include "image/util/read_text.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cairn::image {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path.string() + ": read error");
  return s.str();
}

}  // namespace cairn::image
