#include "init/system/kernel_cmdline.h"

#include <fcntl.h>
#include <unistd.h>

namespace cairn::init::system {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0';
}

// One word as the kernel's next_arg() sees it: quotes toggle "inside", spaces end the word
// only outside quotes; the quote characters themselves are dropped.
std::string next_word(std::string_view text, size_t& pos, bool& had_equals, size_t& equals_at) {
  std::string word;
  bool quoted = false;
  had_equals = false;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && is_space(c)) break;
    if (c == '=' && !had_equals) {
      had_equals = true;
      equals_at = word.size();
    }
    word.push_back(c);
  }
  return word;
}

}  // namespace

KernelCmdline KernelCmdline::parse(std::string_view text) {
  KernelCmdline out;
  size_t pos = 0;
  bool for_init = false;
  while (true) {
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos >= text.size()) break;
    bool had_equals = false;
    size_t equals_at = 0;
    std::string word = next_word(text, pos, had_equals, equals_at);
    if (for_init) {
      out.init_args_.push_back(std::move(word));
      continue;
    }
    if (word == "--" && !had_equals) {
      for_init = true;
      continue;
    }
    Param param;
    if (had_equals) {
      param.key = word.substr(0, equals_at);
      param.value = word.substr(equals_at + 1);
    } else {
      param.key = std::move(word);
    }
    out.params_.push_back(std::move(param));
  }
  return out;
}

KernelCmdline KernelCmdline::read(const char* path) {
  std::string text;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) break;  // the kernel's limit is a few KiB
  }
  ::close(fd);
  return parse(text);
}

std::optional<std::string> KernelCmdline::get(std::string_view key) const {
  for (auto it = params_.rbegin(); it != params_.rend(); ++it) {
    if (it->key == key) return it->value ? *it->value : std::string();
  }
  return std::nullopt;
}

bool KernelCmdline::has(std::string_view key) const {
  return get(key).has_value();
}

}  // namespace cairn::init::system
