#include "image/boot/console_watch.h"

#include <cstdlib>

namespace cairn::image {

ConsoleWatch::ConsoleWatch(std::vector<std::string> fail_patterns, size_t keep_lines)
    : fail_patterns_(std::move(fail_patterns)), keep_(keep_lines) {}

std::string ConsoleWatch::clean(const std::string& line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\x1b') {  // CSI sequences from firmware / the kernel's console setup
      if (i + 1 < line.size() && line[i + 1] == '[') {
        i += 2;
        while (i < line.size() && !(line[i] >= '@' && line[i] <= '~')) ++i;
      }
      continue;
    }
    if (c == '\r' || c == '\0') continue;
    out.push_back(c);
  }
  return out;
}

void ConsoleWatch::feed(const std::string& raw) {
  const std::string line = clean(raw);
  last_.push_back(line);
  while (last_.size() > keep_) last_.pop_front();
  if (state_ == State::kReady) {
    timeline_.push_back(line);
    return;
  }
  if (state_ == State::kFailed) return;
  static const std::string kReady = "cairn-init: node ready in ";
  const size_t at = line.find(kReady);
  if (at != std::string::npos) {
    const char* digits = line.c_str() + at + kReady.size();
    char* end = nullptr;
    const long long ms = std::strtoll(digits, &end, 10);
    if (end != digits && std::string(end).rfind(" ms", 0) == 0) {
      ready_ms_ = ms;
      state_ = State::kReady;
      return;
    }
  }
  for (const auto& pattern : fail_patterns_) {
    if (!pattern.empty() && line.find(pattern) != std::string::npos) {
      state_ = State::kFailed;
      failure_ = line;
      return;
    }
  }
}

std::vector<std::string> default_fail_patterns() {
  return {"cairn-stage1: FAILED", "Kernel panic - not syncing", "cairn-init: FATAL"};
}

}  // namespace cairn::image
