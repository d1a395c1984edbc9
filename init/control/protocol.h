// The control protocol between cairnctl and cairn-init over /run/cairn/control.sock (a unix
// stream socket; reference: docs/control-protocol.md). Pure encode/decode of typed messages;
// framing lives in frame.h. Decoders never trust the input: every field is checked, bad
// input is an error string, never a crash.
//
// A connection carries one request from the client, then the server's responses:
//   status               -> Status | Error
//   start|stop|restart N -> Ok (message) | Error
//   reload               -> Reload | Error
//   logs N               -> Log* then Ok | Error        (the ring's current content)
//   logs N follow        -> Log* until either side closes | Error
//   poweroff|reboot|halt -> Ok, then the server shuts the machine down
//   timeline             -> Timeline | Error
// A request with an unknown command or version gets an Error and the connection is closed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "init/supervisor/service_status.h"
#include "init/supervisor/supervisor.h"  // ReloadResult

namespace cairn::init::control {

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr const char* kDefaultSocketPath = "/run/cairn/control.sock";

enum class Command { Status, Start, Stop, Restart, Reload, Logs, Poweroff, Reboot, Halt, Timeline };

// "status", "start", ... (the wire and command-line names).
const char* to_string(Command command) noexcept;
// Inverse of to_string; false if `name` is not a command.
bool parse_command(std::string_view name, Command& out) noexcept;
// start, stop, restart and logs name a service.
bool command_takes_name(Command command) noexcept;

struct Request {
  Command command = Command::Status;
  std::string name;         // start/stop/restart/logs: the service
  bool follow = false;      // logs: keep streaming new lines
  uint64_t tail_bytes = 0;  // logs: at most this much of the ring first; 0 = all of it
  uint64_t tail_lines = 0;  // logs: at most this many of the ring's last lines; 0 = all

  bool operator==(const Request&) const = default;
};

enum class ResponseType { Ok, Error, Status, Timeline, Reload, Log };
const char* to_string(ResponseType type) noexcept;

struct Response {
  ResponseType type = ResponseType::Ok;
  std::string message;                  // Ok: optional human text; Error: the reason
  std::vector<ServiceStatus> services;  // Status
  std::vector<TimelineEntry> timeline;  // Timeline
  ReloadResult reload;                  // Reload
  std::string log;                      // Log: a chunk of log text (whole lines when possible)

  static Response ok(std::string message = "");
  static Response error(std::string message);
  static Response log_chunk(std::string text);
};

// The wire names of service states ("ready", "backoff", ...), stable across versions.
const char* state_name(ServiceState state) noexcept;
bool parse_state(std::string_view name, ServiceState& out) noexcept;

// Encoders return a frame payload (no length prefix; see frame.h).
std::string encode_request(const Request& request);
std::string encode_response(const Response& response);

// Decoders return "" on success or why the payload is not a valid message.
std::string decode_request(std::string_view payload, Request& out);
std::string decode_response(std::string_view payload, Response& out);

}  // namespace cairn::init::control
