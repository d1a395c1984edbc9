// One stream socket to a dqlite node with deadlines on every operation (poll), and a
// reusable receive buffer that reads as much as the kernel has, so a response usually
// costs one recv() and a request one send(). Errors throw Error(kErrTransport/kErrTimeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "datastore/dqlite/wire.h"

namespace cairn::dqlite {

using Clock = std::chrono::steady_clock;

class Connection {
 public:
  Connection() = default;
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects to "@abstract", "/path/to.sock" or "host:port" (IPv4/IPv6/DNS name) and
  // sends the protocol-version handshake.
  static Connection open(const std::string& address, Clock::time_point deadline);

  bool is_open() const noexcept { return fd_ >= 0; }
  void close() noexcept;
  const std::string& address() const noexcept { return address_; }

  // Writes all of `bytes` (one send() unless the socket buffer is full).
  void send(std::span<const uint8_t> bytes, Clock::time_point deadline);

  // Reads the next whole message; the body span stays valid until the next call.
  struct Message {
    wire::Header header;
    wire::Body body;
  };
  Message receive(Clock::time_point deadline);

 private:
  void fill(size_t need, Clock::time_point deadline);
  void wait(short events, Clock::time_point deadline);

  int fd_ = -1;
  std::string address_;
  std::vector<uint8_t> in_;  // received bytes in [begin_, end_)
  size_t begin_ = 0;
  size_t end_ = 0;
  // Set by send(): the answer cannot be there yet, so the next read polls first instead of
  // paying for a recv() that would fail with EAGAIN.
  bool awaiting_reply_ = false;
};

}  // namespace cairn::dqlite
