#include "common/units.h"

#include <signal.h>

#include <array>
#include <cstdio>

namespace cairn {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Parses the leading decimal digits of `text` at `pos`; false on overflow or no digits.
bool parse_digits(std::string_view text, size_t& pos, uint64_t& value) {
  size_t start = pos;
  value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    uint64_t digit = static_cast<uint64_t>(text[pos] - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
    ++pos;
  }
  return pos > start;
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
    if (out.size() > 64) {
      out += "...";
      break;
    }
  }
  out += '"';
  return out;
}

struct SignalName {
  const char* name;  // without "SIG"
  int number;
};

constexpr std::array<SignalName, 32> kSignals{{
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
}};

constexpr int kMaxSignal = 64;

}  // namespace

std::string parse_duration(std::string_view text, std::chrono::milliseconds& out) {
  if (text.empty()) return "empty duration; expected e.g. \"100ms\", \"30s\", \"5m\", \"1h30m\"";
  if (text == "0") {
    out = std::chrono::milliseconds(0);
    return "";
  }
  // Units from largest to smallest; each may appear once, in this order.
  struct Unit {
    std::string_view suffix;
    uint64_t ms;
  };
  static constexpr std::array<Unit, 5> kUnits{
      {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};
  constexpr uint64_t kMaxMs = 100ull * 366 * 86'400'000;
  uint64_t total = 0;
  size_t pos = 0;
  size_t next_unit = 0;  // index of the smallest unit index still allowed
  while (pos < text.size()) {
    uint64_t value = 0;
    if (!parse_digits(text, pos, value)) {
      return "invalid duration " + quoted(text) +
             "; expected <number><unit> parts with units d, h, m, s, ms (e.g. \"1h30m\")";
    }
    size_t unit_end = pos;
    while (unit_end < text.size() && !is_digit(text[unit_end])) ++unit_end;
    std::string_view suffix = text.substr(pos, unit_end - pos);
    if (suffix.empty()) {
      return "duration " + quoted(text) + " needs a unit (ms, s, m, h or d), e.g. \"" +
             std::string(text) + "s\"";
    }
    size_t found = kUnits.size();
    for (size_t i = 0; i < kUnits.size(); ++i) {
      if (kUnits[i].suffix == suffix) found = i;
    }
    if (found == kUnits.size()) {
      return "unknown duration unit " + quoted(suffix) + " in " + quoted(text) +
             "; use ms, s, m, h or d";
    }
    if (found < next_unit) {
      return "duration " + quoted(text) +
             " has its units out of order or repeated; write "
             "larger units first, e.g. \"1h30m\"";
    }
    next_unit = found + 1;
    if (value > kMaxMs / kUnits[found].ms || total + value * kUnits[found].ms > kMaxMs) {
      return "duration " + quoted(text) + " is too large";
    }
    total += value * kUnits[found].ms;
    pos = unit_end;
  }
  out = std::chrono::milliseconds(static_cast<int64_t>(total));
  return "";
}

std::string parse_byte_size(std::string_view text, std::optional<uint64_t>& out, bool allow_max) {
  if (text == "max") {
    if (!allow_max) return "\"max\" is not allowed here; give a size such as \"64M\"";
    out = std::nullopt;
    return "";
  }
  size_t pos = 0;
  uint64_t value = 0;
  if (!parse_digits(text, pos, value)) {
    return "invalid size " + quoted(text) +
           "; expected <number>[K|M|G|T] (binary units, e.g. \"512M\", \"1G\") or \"max\"";
  }
  std::string_view suffix = text.substr(pos);
  uint64_t multiplier = 0;
  struct Unit {
    std::string_view a, b;
    uint64_t multiplier;
  };
  static constexpr std::array<Unit, 5> kUnits{{{"", "B", 1},
                                               {"K", "KiB", 1ull << 10},
                                               {"M", "MiB", 1ull << 20},
                                               {"G", "GiB", 1ull << 30},
                                               {"T", "TiB", 1ull << 40}}};
  for (const auto& unit : kUnits) {
    if (suffix == unit.a || suffix == unit.b) multiplier = unit.multiplier;
  }
  if (multiplier == 0) {
    return "unknown size unit " + quoted(suffix) + " in " + quoted(text) +
           "; use K, M, G, T (or KiB, MiB, GiB, TiB), all powers of 1024";
  }
  if (value > UINT64_MAX / multiplier) return "size " + quoted(text) + " is too large";
  out = value * multiplier;
  return "";
}

std::string parse_signal(std::string_view text, int& out) {
  if (text.empty()) return "empty signal name; expected e.g. \"SIGTERM\"";
  if (is_digit(text[0])) {
    size_t pos = 0;
    uint64_t value = 0;
    if (!parse_digits(text, pos, value) || pos != text.size() || value < 1 || value > kMaxSignal) {
      return "invalid signal number " + quoted(text) + "; expected 1..64";
    }
    out = static_cast<int>(value);
    return "";
  }
  std::string_view name = text;
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const auto& s : kSignals) {
    if (name == s.name) {
      out = s.number;
      return "";
    }
  }
  if (name.substr(0, 5) == "RTMIN") {
    std::string_view rest = name.substr(5);
    uint64_t offset = 0;
    if (!rest.empty()) {
      size_t pos = 1;
      if (rest[0] != '+' || !parse_digits(rest, pos, offset) || pos != rest.size()) {
        return "invalid real-time signal " + quoted(text) + "; expected SIGRTMIN+N";
      }
    }
    int number = SIGRTMIN + static_cast<int>(offset > 64 ? 64 : offset);
    if (number > SIGRTMAX) return "real-time signal " + quoted(text) + " is beyond SIGRTMAX";
    out = number;
    return "";
  }
  return "unknown signal " + quoted(text) + "; expected a name such as \"SIGTERM\" or a number";
}

std::string signal_name(int signal) {
  for (const auto& s : kSignals) {
    if (s.number == signal && std::string_view(s.name) != "IOT") {
      return std::string("SIG") + s.name;
    }
  }
  if (signal >= SIGRTMIN && signal <= SIGRTMAX) {
    return signal == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(signal - SIGRTMIN);
  }
  return "signal " + std::to_string(signal);
}

std::string format_bytes(uint64_t bytes) {
  static constexpr std::array<const char*, 5> kSuffix{"B", "K", "M", "G", "T"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < kSuffix.size()) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%lluB", static_cast<unsigned long long>(bytes));
  } else if (value < 10) {
    std::snprintf(buf, sizeof buf, "%.1f%s", value, kSuffix[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f%s", value, kSuffix[unit]);
  }
  return buf;
}

std::string format_duration(std::chrono::milliseconds duration) {
  long long ms = duration.count();
  char buf[48];
  if (ms < 0) return "-";
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", ms);
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%lld.%03llds", ms / 1000, ms % 1000);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", ms / 60'000, (ms / 1000) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", ms / 3'600'000, (ms / 60'000) % 60);
  }
  return buf;
}

}  // namespace cairn
