// The units every cairn configuration file shares: durations, byte sizes and signal names.
// Each parser returns "" on success or a short reason on bad input (the caller adds the
// file:line:col). Pure functions, no allocation beyond the error string.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

// Durations: one or more <integer><unit> parts, unit one of ms, s, m, h, d, largest first:
// "100ms", "30s", "5m", "1h", "1h30m", "2m30s500ms". A bare "0" is zero. No sign, no spaces,
// no fractions. Results above ~100 years are rejected (overflow guard).
std::string parse_duration(std::string_view text, std::chrono::milliseconds& out);

// Byte sizes: <integer>[unit], unit one of B, K, M, G, T (binary: K = 1024) or the same with
// "iB" (KiB, MiB, GiB, TiB). "512K", "1M", "1G", "1GiB", "4096". "max" means unlimited and
// sets `out` to nullopt when `allow_max`; otherwise it is an error. Zero is allowed.
std::string parse_byte_size(std::string_view text, std::optional<uint64_t>& out,
                            bool allow_max = true);

// Signals: "SIGTERM", "TERM" (case-sensitive upper case, as kill(1) prints them), a number
// 1..64, or "SIGRTMIN+N"/"RTMIN+N". Sets `out` to the signal number.
std::string parse_signal(std::string_view text, int& out);
// "SIGTERM" for 15; "SIGRTMIN+2"; "signal 99" for unknown numbers.
std::string signal_name(int signal);

// "1.5G", "512M", "10K", "100B": for tables (cairnctl status).
std::string format_bytes(uint64_t bytes);
// "1.234s", "850ms", "2m03s", "1h02m": for tables (cairnctl timeline).
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace cairn
