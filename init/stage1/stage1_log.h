// Stage 1's messages: "cairn-stage1: ..." on the console (fd 2, which the kernel opened on
// /dev/console for /init) and, for failures, also as an error record in /dev/kmsg so dmesg
// keeps them. Plain write(2), no buffering: stage 1 may die or exec at any point.
#pragma once

#include <string>

namespace cairn::init::stage1 {

void log_open_kmsg() noexcept;  // once /dev is mounted
void log_info(const std::string& message) noexcept;
void log_warning(const std::string& message) noexcept;
void log_error(const std::string& message) noexcept;  // console and kmsg (<3>)

// Milliseconds since boot (CLOCK_BOOTTIME), for the timeline lines.
long long uptime_ms() noexcept;

}  // namespace cairn::init::stage1
