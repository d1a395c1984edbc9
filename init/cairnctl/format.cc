#include "init/cairnctl/format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "common/units.h"
#include "init/control/protocol.h"

namespace cairn::init::cairnctl {
namespace {

std::string first_line(const std::string& text) {
  size_t newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline) + " ...";
}

// Columns padded to the widest cell; the last column is not padded.
std::string render_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i + 1 < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  return out;
}

std::string since_boot(int64_t ms) {
  if (ms < 0) return "-";
  return "+" + format_duration(std::chrono::milliseconds(ms));
}

void append_utf8_checked(const std::string& text, size_t& i, std::string& out) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  size_t length = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (lead >= 0xF5) length = 0;
  bool ok = length != 0 && i + length <= text.size();
  for (size_t k = 1; ok && k < length; ++k) ok = (byte(i + k) & 0xC0) == 0x80;
  if (ok && length == 3) {
    unsigned second = byte(i + 1);
    if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second >= 0xA0)) ok = false;
  }
  if (ok && length == 4) {
    unsigned second = byte(i + 1);
    if ((lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second >= 0x90)) ok = false;
  }
  if (!ok) {
    out += "\xEF\xBF\xBD";  // U+FFFD
    ++i;
    return;
  }
  out.append(text, i, length);
  i += length;
}

}  // namespace

std::string json_string(const std::string& text) {
  std::string out = "\"";
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      append_utf8_checked(text, i, out);
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string format_status_table(const std::vector<ServiceStatus>& services) {
  std::map<std::string, const ServiceStatus*> by_name;
  std::set<std::string> grouped;  // members shown under their group
  for (const auto& s : services) by_name[s.name] = &s;
  for (const auto& s : services) {
    for (const auto& m : s.members) {
      if (by_name.count(m)) grouped.insert(m);
    }
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "STATE", "SINCE", "PID", "RESTARTS", "MEMORY", "DESCRIPTION/STATUS/ERROR"}};
  std::set<std::string> shown;
  auto add_row = [&](const ServiceStatus& s, const std::string& indent) {
    std::string detail = s.description;
    // The daemon's own word on what it is doing (sd_notify STATUS=), like systemctl's Status:.
    if (!s.status_text.empty()) {
      detail += (detail.empty() ? "" : " ") + std::string("\"") + first_line(s.status_text) + "\"";
    }
    if (!s.error.empty() &&
        (s.state == ServiceState::Invalid || s.state == ServiceState::Failed || detail.empty())) {
      detail = first_line(s.error);
    } else if (!s.error.empty()) {
      detail += " (last error: " + first_line(s.error) + ")";
    }
    if (s.oom_killed) detail = "[OOM-killed] " + detail;
    // A member is shown under its group; if the group row is not there, say which it is.
    if (!s.group.empty() && indent.empty()) detail = "[member of " + s.group + "] " + detail;
    while (!detail.empty() && detail.back() == ' ') detail.pop_back();
    rows.push_back({indent + s.name, control::state_name(s.state), since_boot(s.since_ms),
                    s.pid > 0 ? std::to_string(s.pid) : "-", std::to_string(s.restarts),
                    s.memory_current ? format_bytes(s.memory_current) : "-", detail});
    shown.insert(s.name);
  };
  // Depth-limited so a (rejected, but possibly reported) cycle of groups cannot loop.
  std::function<void(const ServiceStatus&, int)> add_tree = [&](const ServiceStatus& s, int depth) {
    add_row(s, std::string(static_cast<size_t>(depth) * 2, ' '));
    if (depth >= 4) return;
    for (const auto& m : s.members) {
      auto it = by_name.find(m);
      if (it != by_name.end() && !shown.count(m)) add_tree(*it->second, depth + 1);
    }
  };
  for (const auto& [name, s] : by_name) {
    if (!grouped.count(name) && !shown.count(name)) add_tree(*s, 0);
  }
  for (const auto& [name, s] : by_name) {
    if (!shown.count(name)) add_row(*s, "");  // members of groups that form a loop
  }
  return render_table(rows);
}

std::string format_status_json(const std::vector<ServiceStatus>& services) {
  std::string out = "[";
  for (size_t i = 0; i < services.size(); ++i) {
    const auto& s = services[i];
    out += i ? ",\n  {" : "\n  {";
    out += "\"name\": " + json_string(s.name);
    out += ", \"description\": " + json_string(s.description);
    out += ", \"state\": " + json_string(control::state_name(s.state));
    out += ", \"pid\": " + std::to_string(s.pid);
    out += ", \"restarts\": " + std::to_string(s.restarts);
    out += ", \"last_exit_status\": " + std::to_string(s.last_exit_status);
    out += std::string(", \"oom_killed\": ") + (s.oom_killed ? "true" : "false");
    out += ", \"memory_current\": " + std::to_string(s.memory_current);
    out += ", \"error\": " + json_string(s.error);
    out += ", \"members\": [";
    for (size_t m = 0; m < s.members.size(); ++m) {
      if (m) out += ", ";
      out += json_string(s.members[m]);
    }
    out += "]";
    out += ", \"group\": " + (s.group.empty() ? std::string("null") : json_string(s.group));
    out += ", \"status_text\": " + json_string(s.status_text);
    out += ", \"since_ms\": " + std::to_string(s.since_ms);
    out += std::string(", \"wanted\": ") + (s.wanted ? "true" : "false");
    out += "}";
  }
  out += services.empty() ? "]\n" : "\n]\n";
  return out;
}

std::string format_timeline(const std::vector<TimelineEntry>& timeline) {
  std::vector<const TimelineEntry*> entries;
  for (const auto& e : timeline) entries.push_back(&e);
  auto ready_in = [](const TimelineEntry* e) {
    return e->started_ms >= 0 && e->ready_ms >= e->started_ms ? e->ready_ms - e->started_ms : -1;
  };
  auto rank = [&](const TimelineEntry* e) {
    return ready_in(e) >= 0 ? 0 : e->started_ms >= 0 ? 1 : 2;
  };
  std::sort(entries.begin(), entries.end(), [&](const TimelineEntry* a, const TimelineEntry* b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (rank(a) == 0 && ready_in(a) != ready_in(b)) return ready_in(a) > ready_in(b);
    if (rank(a) == 1 && a->started_ms != b->started_ms) return a->started_ms < b->started_ms;
    return a->name < b->name;
  });
  std::vector<std::vector<std::string>> rows{{"READY-IN", "NAME", "STARTED", "READY", "NOTE"}};
  for (const auto* e : entries) {
    std::string note;
    if (e->failed_ms >= 0) note = "failed at " + since_boot(e->failed_ms);
    if (e->stopped_ms >= 0) {
      note += (note.empty() ? "" : ", ") + std::string("stopped at ") + since_boot(e->stopped_ms);
    }
    if (e->started_ms < 0 && note.empty()) note = "never started";
    int64_t in = ready_in(e);
    rows.push_back({in >= 0 ? format_duration(std::chrono::milliseconds(in)) : "-", e->name,
                    since_boot(e->started_ms), since_boot(e->ready_ms), note});
  }
  return render_table(rows);
}

std::string format_timeline_json(const std::vector<TimelineEntry>& timeline) {
  std::string out = "[";
  for (size_t i = 0; i < timeline.size(); ++i) {
    const auto& e = timeline[i];
    out += i ? ",\n  {" : "\n  {";
    out += "\"name\": " + json_string(e.name);
    out += ", \"started_ms\": " + std::to_string(e.started_ms);
    out += ", \"ready_ms\": " + std::to_string(e.ready_ms);
    out += ", \"failed_ms\": " + std::to_string(e.failed_ms);
    out += ", \"stopped_ms\": " + std::to_string(e.stopped_ms);
    out += "}";
  }
  out += timeline.empty() ? "]\n" : "\n]\n";
  return out;
}

std::string format_reload(const ReloadResult& r) {
  auto part = [](size_t count, const char* what, const std::vector<std::string>& names, bool list) {
    std::string s = std::to_string(count) + " " + what;
    if (list && !names.empty()) {
      s += " (";
      for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
      s += ")";
    }
    return s;
  };
  return "reloaded: " + part(r.added.size(), "added", r.added, true) + ", " +
         part(r.changed.size(), "changed", r.changed, true) + ", " +
         part(r.removed.size(), "removed", r.removed, true) + ", " +
         part(r.unchanged.size(), "unchanged", r.unchanged, false) + ", " +
         part(r.invalid.size(), "invalid", r.invalid, true) + "\n";
}

}  // namespace cairn::init::cairnctl
