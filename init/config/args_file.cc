#include "init/config/args_file.h"

#include "common/read_file.h"

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
  std::string text, error;
  switch (read_small_file(path, kMaxArgsFileBytes, text, error)) {
    case ReadFileStatus::Ok:
      result.args = parse_args_text(text);
      break;
    case ReadFileStatus::Missing:
      break;
    case ReadFileStatus::Error:
      result.error = "cannot read args file " + path + ": " + error;
  }
  return result;
}

}  // namespace cairn::init
