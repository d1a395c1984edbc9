// The kernel command line (/proc/cmdline) as key/value pairs. Reused by stage 1 (cairn.root=,
// cairn.verity.*), the crash handler (cairn.crash=) and stage 2.
//
// Grammar (the kernel's own, lib/cmdline.c next_arg): words separated by spaces/tabs/newlines;
// a word is `key` or `key=value`; double quotes may surround the whole word ("key=a b") or the
// value (key="a b") and are removed; there are no escapes. Everything after a lone `--` belongs
// to init and is kept in init_args(). A later duplicate key wins in get(); all() keeps order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::init::system {

class KernelCmdline {
 public:
  struct Param {
    std::string key;
    std::optional<std::string> value;  // nullopt for a bare flag ("quiet")
  };

  // Never fails: the kernel accepts any bytes, so does this (an unterminated quote runs to
  // the end of the line, as in the kernel).
  static KernelCmdline parse(std::string_view text);
  // Reads /proc/cmdline (or `path`); an unreadable file gives an empty command line.
  static KernelCmdline read(const char* path = "/proc/cmdline");

  // The value of the last `key=value`; a bare `key` gives "" ; absent gives nullopt.
  std::optional<std::string> get(std::string_view key) const;
  bool has(std::string_view key) const;
  const std::vector<Param>& all() const { return params_; }
  const std::vector<std::string>& init_args() const { return init_args_; }

 private:
  std::vector<Param> params_;
  std::vector<std::string> init_args_;
};

}  // namespace cairn::init::system
