// How cairnctl prints what PID 1 answers: tables for people, JSON for scripts. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "init/supervisor/service_status.h"
#include "init/supervisor/supervisor.h"

namespace cairn::init::cairnctl {

// NAME STATE PID RESTARTS MEMORY DESCRIPTION/ERROR, like `systemctl list-units`: services
// sorted by name, each group's members listed under it (indented); an invalid or failed
// service shows its error instead of its description, an OOM kill is flagged.
std::string format_status_table(const std::vector<ServiceStatus>& services);
std::string format_status_json(const std::vector<ServiceStatus>& services);

// Like `systemd-analyze blame`: time from start to ready, slowest first; services that never
// became ready follow, then those never started.
std::string format_timeline(const std::vector<TimelineEntry>& timeline);
std::string format_timeline_json(const std::vector<TimelineEntry>& timeline);

// "reloaded: 1 added (x), 2 changed (a, b), 0 removed, 3 unchanged, 1 invalid (bad)".
std::string format_reload(const ReloadResult& result);

// A JSON string literal for `text` (quotes included); invalid UTF-8 bytes become U+FFFD.
std::string json_string(const std::string& text);

}  // namespace cairn::init::cairnctl
