// The server side of /run/cairn/control.sock (cairnctl's protocol: init/control/).
// A unix stream socket on the event loop; each connecting peer is checked with SO_PEERCRED
// (only `allowed_uid`, root, is served; anyone else gets one refusal response and is closed).
// Clients are non-blocking with bounded input and output buffers: a client that sends too
// much, or reads too slowly, or disappears, is dropped — it never blocks PID 1. `logs -f`
// streams through LogHub::follow until the client goes away. poweroff/reboot/halt are
// handed to the callback from main (which runs the ordered shutdown).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "init/loop/event_loop.h"
#include "init/system/power_action.h"

namespace cairn::init {

class Supervisor;
class LogHub;

struct ControlServerOptions {
  std::string socket_path = "/run/cairn/control.sock";
  uid_t allowed_uid = 0;
  size_t max_clients = 64;
  size_t max_request_bytes = 64 << 10;  // a request larger than this drops the client
  size_t max_output_bytes = 4 << 20;    // a client this far behind is dropped (logs -f: lines
                                        // are dropped and counted first, see .cc)
  std::chrono::milliseconds idle_timeout{60'000};  // a silent client without a follow is dropped
};

class ControlServer {
 public:
  using PowerCallback = std::function<void(system::PowerAction)>;

  ControlServer(EventLoop& loop, Supervisor& supervisor, LogHub& logs, PowerCallback power,
                ControlServerOptions options = {});
  ~ControlServer();  // closes every client and the socket, unlinks the socket path
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds (replacing a stale socket file), listens, watches. False with `error` set.
  bool start(std::string& error) noexcept;
  void stop() noexcept;
  size_t client_count() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::init
