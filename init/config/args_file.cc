#include "init/config/args_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace cairn::init {

std::vector<std::string> parse_args_text(std::string_view text) {
  std::vector<std::string> args;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    auto is_space = [](char c) {
      return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
    };
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::string arg(line);
    size_t equals = arg.find('=');
    if (equals != std::string::npos && arg.size() >= equals + 3 && arg[equals + 1] == '"' &&
        arg.back() == '"') {
      arg = arg.substr(0, equals + 1) + arg.substr(equals + 2, arg.size() - equals - 3);
    }
    // A NUL cannot be passed through execve; such a line is dropped rather than truncated.
    if (arg.find('\0') != std::string::npos) continue;
    args.push_back(std::move(arg));
  }
  return args;
}

ArgsFile read_args_file(const std::string& path) {
  ArgsFile result;
  if (path.empty()) return result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return result;
    result.error = "cannot read args file " + path + ": " + std::strerror(errno);
    return result;
  }
  std::string text;
  char buffer[16384];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxArgsFileBytes) {
      result.error = "args file " + path + " is larger than 1 MiB";
      return result;
    }
  }
  if (in.bad()) {
    result.error = "cannot read args file " + path;
    return result;
  }
  result.args = parse_args_text(text);
  return result;
}

}  // namespace cairn::init
