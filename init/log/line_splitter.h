// Splits a byte stream into lines at '\n'. A partial line is held until its end arrives, but
// never beyond max_line bytes: a longer line is emitted in pieces of max_line bytes (each
// flagged `cut`), so a service writing without newlines cannot grow PID 1's memory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::init {

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_line_(max_line == 0 ? 1 : max_line) {}

  // Calls emit(std::string_view line, bool cut) for every complete line (without '\n').
  template <typename Emit>
  void feed(std::string_view data, Emit&& emit) {
    while (!data.empty()) {
      size_t nl = data.find('\n');
      std::string_view piece = data.substr(0, nl);
      if (partial_.size() + piece.size() > max_line_) {
        // Fill the held line up to the cap and emit it as a cut piece.
        size_t take = max_line_ - partial_.size();
        partial_.append(piece.substr(0, take));
        emit(std::string_view(partial_), true);
        partial_.clear();
        data.remove_prefix(take);
        continue;
      }
      if (nl == std::string_view::npos) {
        partial_.append(piece);
        return;
      }
      if (partial_.empty()) {
        emit(piece, false);
      } else {
        partial_.append(piece);
        emit(std::string_view(partial_), false);
        partial_.clear();
      }
      data.remove_prefix(nl + 1);
    }
  }

  // End of stream: a held partial line is emitted as a line.
  template <typename Emit>
  void flush(Emit&& emit) {
    if (partial_.empty()) return;
    emit(std::string_view(partial_), false);
    partial_.clear();
  }

  size_t pending() const { return partial_.size(); }

 private:
  size_t max_line_;
  std::string partial_;
};

}  // namespace cairn::init
