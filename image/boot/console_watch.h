// Reading a guest's serial console in `cairn-image boot --batch`: the state of the boot from
// the lines seen so far. Pure (lines in, state out), so the patterns are unit-tested.
#pragma once

#include <deque>
#include <string>
#include <vector>

namespace cairn::image {

class ConsoleWatch {
 public:
  enum class State { kBooting, kReady, kFailed };

  explicit ConsoleWatch(std::vector<std::string> fail_patterns, size_t keep_lines = 40);

  // One console line (without the newline; a trailing '\r' and ANSI escapes are dropped).
  void feed(const std::string& line);

  State state() const { return state_; }
  long long ready_ms() const { return ready_ms_; }         // from "node ready in <ms> ms"
  const std::string& failure() const { return failure_; }  // the line that matched
  std::vector<std::string> last_lines() const { return {last_.begin(), last_.end()}; }
  // Lines after the ready line: the boot timeline cairn-init prints.
  const std::vector<std::string>& timeline() const { return timeline_; }

  static std::string clean(const std::string& line);

 private:
  std::vector<std::string> fail_patterns_;
  size_t keep_;
  State state_ = State::kBooting;
  long long ready_ms_ = -1;
  std::string failure_;
  std::deque<std::string> last_;
  std::vector<std::string> timeline_;
};

// The patterns that end a batch boot as failed (stage 1 failures, kernel panics).
std::vector<std::string> default_fail_patterns();

}  // namespace cairn::image
