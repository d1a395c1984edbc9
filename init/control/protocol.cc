#include "init/control/protocol.h"

#include <array>
#include <charconv>

#include "init/control/message.h"

namespace cairn::init::control {
namespace {

constexpr std::array<std::pair<const char*, Command>, 10> kCommands{{
    {"status", Command::Status},
    {"start", Command::Start},
    {"stop", Command::Stop},
    {"restart", Command::Restart},
    {"reload", Command::Reload},
    {"logs", Command::Logs},
    {"poweroff", Command::Poweroff},
    {"reboot", Command::Reboot},
    {"halt", Command::Halt},
    {"timeline", Command::Timeline},
}};

constexpr std::array<std::pair<const char*, ResponseType>, 6> kResponseTypes{{
    {"ok", ResponseType::Ok},
    {"error", ResponseType::Error},
    {"status", ResponseType::Status},
    {"timeline", ResponseType::Timeline},
    {"reload", ResponseType::Reload},
    {"log", ResponseType::Log},
}};

constexpr std::array<std::pair<const char*, ServiceState>, 9> kStates{{
    {"invalid", ServiceState::Invalid},
    {"stopped", ServiceState::Stopped},
    {"waiting", ServiceState::Waiting},
    {"starting", ServiceState::Starting},
    {"ready", ServiceState::Ready},
    {"stopping", ServiceState::Stopping},
    {"backoff", ServiceState::Backoff},
    {"exited", ServiceState::Exited},
    {"failed", ServiceState::Failed},
}};

constexpr size_t kMaxNameBytes = 255;

template <typename T>
bool parse_number(const std::string& text, T& out) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin == end || (*begin == '+')) return false;
  auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end;
}

// Reads an optional numeric field; "" or why it is bad.
template <typename T>
std::string number_field(const Fields& fields, const char* key, T& out) {
  const std::string* value = fields.get(key);
  if (!value) return "";
  if (!parse_number(*value, out)) return std::string("field ") + key + ": not a valid number";
  return "";
}

std::string bool_field(const Fields& fields, const char* key, bool& out) {
  const std::string* value = fields.get(key);
  if (!value) return "";
  if (*value == "1") {
    out = true;
  } else if (*value == "0") {
    out = false;
  } else {
    return std::string("field ") + key + ": expected 0 or 1";
  }
  return "";
}

std::string encode_service(const ServiceStatus& s, Fields& f) {
  f.add("name", s.name);
  if (!s.description.empty()) f.add("description", s.description);
  f.add("state", state_name(s.state));
  f.add("pid", std::to_string(s.pid));
  f.add("restarts", std::to_string(s.restarts));
  f.add("exit-status", std::to_string(s.last_exit_status));
  f.add("oom-killed", s.oom_killed ? "1" : "0");
  if (!s.error.empty()) f.add("error", s.error);
  for (const auto& m : s.members) f.add("member", m);
  f.add("memory", std::to_string(s.memory_current));
  if (!s.group.empty()) f.add("group", s.group);
  if (!s.status_text.empty()) f.add("status-text", s.status_text);
  f.add("since", std::to_string(s.since_ms));
  f.add("wanted", s.wanted ? "1" : "0");
  return "";
}

std::string decode_service(const Fields& f, ServiceStatus& s) {
  const std::string* name = f.get("name");
  const std::string* state = f.get("state");
  if (!name || name->empty()) return "service record without a name";
  if (!state || !parse_state(*state, s.state)) return "service " + *name + ": invalid state";
  s.name = *name;
  if (const auto* d = f.get("description")) s.description = *d;
  if (const auto* e = f.get("error")) s.error = *e;
  s.members = f.all("member");
  if (const auto* g = f.get("group")) s.group = *g;
  if (const auto* t = f.get("status-text")) s.status_text = *t;
  for (auto problem :
       {number_field(f, "pid", s.pid), number_field(f, "restarts", s.restarts),
        number_field(f, "exit-status", s.last_exit_status),
        number_field(f, "memory", s.memory_current), bool_field(f, "oom-killed", s.oom_killed),
        number_field(f, "since", s.since_ms), bool_field(f, "wanted", s.wanted)}) {
    if (!problem.empty()) return "service " + *name + ": " + problem;
  }
  if (s.pid < 0 || s.restarts < 0) return "service " + *name + ": negative pid or restarts";
  if (s.since_ms < 0) return "service " + *name + ": negative since";
  return "";
}

void encode_entry(const TimelineEntry& e, Fields& f) {
  f.add("name", e.name);
  f.add("started", std::to_string(e.started_ms));
  f.add("ready", std::to_string(e.ready_ms));
  f.add("failed", std::to_string(e.failed_ms));
  f.add("stopped", std::to_string(e.stopped_ms));
}

std::string decode_entry(const Fields& f, TimelineEntry& e) {
  const std::string* name = f.get("name");
  if (!name || name->empty()) return "timeline record without a name";
  e.name = *name;
  for (auto problem :
       {number_field(f, "started", e.started_ms), number_field(f, "ready", e.ready_ms),
        number_field(f, "failed", e.failed_ms), number_field(f, "stopped", e.stopped_ms)}) {
    if (!problem.empty()) return "timeline " + *name + ": " + problem;
  }
  for (int64_t t : {e.started_ms, e.ready_ms, e.failed_ms, e.stopped_ms}) {
    if (t < -1) return "timeline " + *name + ": time below -1";
  }
  return "";
}

}  // namespace

const char* to_string(Command command) noexcept {
  for (const auto& [name, value] : kCommands) {
    if (value == command) return name;
  }
  return "?";
}

bool parse_command(std::string_view name, Command& out) noexcept {
  for (const auto& [n, value] : kCommands) {
    if (name == n) {
      out = value;
      return true;
    }
  }
  return false;
}

bool command_takes_name(Command command) noexcept {
  return command == Command::Start || command == Command::Stop || command == Command::Restart ||
         command == Command::Logs;
}

const char* to_string(ResponseType type) noexcept {
  for (const auto& [name, value] : kResponseTypes) {
    if (value == type) return name;
  }
  return "?";
}

const char* state_name(ServiceState state) noexcept {
  for (const auto& [name, value] : kStates) {
    if (value == state) return name;
  }
  return "?";
}

bool parse_state(std::string_view name, ServiceState& out) noexcept {
  for (const auto& [n, value] : kStates) {
    if (name == n) {
      out = value;
      return true;
    }
  }
  return false;
}

Response Response::ok(std::string message) {
  Response r;
  r.type = ResponseType::Ok;
  r.message = std::move(message);
  return r;
}

Response Response::error(std::string message) {
  Response r;
  r.type = ResponseType::Error;
  r.message = std::move(message);
  return r;
}

Response Response::log_chunk(std::string text) {
  Response r;
  r.type = ResponseType::Log;
  r.log = std::move(text);
  return r;
}

std::string encode_request(const Request& request) {
  Message m;
  m.kind = "request";
  m.head.add("version", std::to_string(kProtocolVersion));
  m.head.add("command", to_string(request.command));
  if (command_takes_name(request.command)) m.head.add("name", request.name);
  if (request.command == Command::Logs) {
    if (request.follow) m.head.add("follow", "1");
    if (request.tail_bytes) m.head.add("tail", std::to_string(request.tail_bytes));
    if (request.tail_lines) m.head.add("tail-lines", std::to_string(request.tail_lines));
  }
  return encode_message(m);
}

std::string decode_request(std::string_view payload, Request& out) {
  Message m;
  std::string problem = decode_message(payload, m);
  if (!problem.empty()) return "malformed request: " + problem;
  if (m.kind != "request") return "expected a request, got \"" + m.kind + "\"";
  const std::string* version = m.head.get("version");
  if (!version) return "request without a protocol version";
  if (*version != std::to_string(kProtocolVersion)) {
    return "unsupported protocol version " + *version + " (this cairn-init speaks " +
           std::to_string(kProtocolVersion) + ")";
  }
  const std::string* command = m.head.get("command");
  Request request;
  if (!command || !parse_command(*command, request.command)) {
    return "unknown command \"" + (command ? *command : std::string()) + "\"";
  }
  if (command_takes_name(request.command)) {
    const std::string* name = m.head.get("name");
    if (!name || name->empty())
      return std::string(to_string(request.command)) + " needs a service name";
    if (name->size() > kMaxNameBytes) return "service name is too long";
    request.name = *name;
  }
  if (request.command == Command::Logs) {
    problem = bool_field(m.head, "follow", request.follow);
    if (problem.empty()) problem = number_field(m.head, "tail", request.tail_bytes);
    if (problem.empty()) problem = number_field(m.head, "tail-lines", request.tail_lines);
    if (!problem.empty()) return problem;
  }
  out = std::move(request);
  return "";
}

std::string encode_response(const Response& r) {
  Message m;
  m.kind = to_string(r.type);
  switch (r.type) {
    case ResponseType::Ok:
    case ResponseType::Error:
      if (!r.message.empty() || r.type == ResponseType::Error) m.head.add("message", r.message);
      break;
    case ResponseType::Status:
      for (const auto& s : r.services) {
        m.records.push_back({"service", {}});
        encode_service(s, m.records.back().fields);
      }
      break;
    case ResponseType::Timeline:
      for (const auto& e : r.timeline) {
        m.records.push_back({"entry", {}});
        encode_entry(e, m.records.back().fields);
      }
      break;
    case ResponseType::Reload:
      for (const auto& n : r.reload.added) m.head.add("added", n);
      for (const auto& n : r.reload.removed) m.head.add("removed", n);
      for (const auto& n : r.reload.changed) m.head.add("changed", n);
      for (const auto& n : r.reload.unchanged) m.head.add("unchanged", n);
      for (const auto& n : r.reload.invalid) m.head.add("invalid", n);
      break;
    case ResponseType::Log:
      m.head.add("data", r.log);
      break;
  }
  return encode_message(m);
}

std::string decode_response(std::string_view payload, Response& out) {
  Message m;
  std::string problem = decode_message(payload, m);
  if (!problem.empty()) return "malformed response: " + problem;
  Response r;
  bool known = false;
  for (const auto& [name, value] : kResponseTypes) {
    if (m.kind == name) {
      r.type = value;
      known = true;
    }
  }
  if (!known) return "unknown response \"" + m.kind + "\"";
  switch (r.type) {
    case ResponseType::Ok:
    case ResponseType::Error:
      if (const auto* message = m.head.get("message")) r.message = *message;
      break;
    case ResponseType::Status:
      for (const auto& record : m.records) {
        if (record.type != "service") continue;  // newer record types are skipped
        ServiceStatus s;
        problem = decode_service(record.fields, s);
        if (!problem.empty()) return problem;
        r.services.push_back(std::move(s));
      }
      break;
    case ResponseType::Timeline:
      for (const auto& record : m.records) {
        if (record.type != "entry") continue;
        TimelineEntry e;
        problem = decode_entry(record.fields, e);
        if (!problem.empty()) return problem;
        r.timeline.push_back(std::move(e));
      }
      break;
    case ResponseType::Reload:
      r.reload.added = m.head.all("added");
      r.reload.removed = m.head.all("removed");
      r.reload.changed = m.head.all("changed");
      r.reload.unchanged = m.head.all("unchanged");
      r.reload.invalid = m.head.all("invalid");
      break;
    case ResponseType::Log:
      if (const auto* data = m.head.get("data")) r.log = *data;
      break;
  }
  out = std::move(r);
  return "";
}

}  // namespace cairn::init::control
