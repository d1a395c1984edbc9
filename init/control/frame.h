// Framing for the control protocol: each message is a 4-byte big-endian payload length
// followed by that many bytes. Lengths are never trusted: zero or above the cap is an error
// before any byte of the payload is buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::init::control {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kMaxFrameBytes = 1 << 20;  // payload cap, both directions

// The 4-byte header followed by `payload`. Payloads above kMaxFrameBytes are the caller's bug:
// encode_* never produce them for requests; log chunks are split by the server.
std::string frame(std::string_view payload);

// Incremental decoder for a non-blocking reader (the server): feed() what read() returned,
// then call next() until it says NeedMore. After Error the stream is unusable.
class FrameDecoder {
 public:
  enum class Status { NeedMore, Frame, Error };

  explicit FrameDecoder(size_t max_payload = kMaxFrameBytes) : max_payload_(max_payload) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // Moves the next complete payload into `payload`. On Error, `error` says why.
  Status next(std::string& payload, std::string& error);
  // Bytes received but not yet returned as a frame.
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;
  size_t max_payload_;
  bool failed_ = false;
};

// Blocking helpers for the client (cairnctl). Both retry on EINTR and short transfers.
// write_frame: false with `error` set on failure.
bool write_frame(int fd, std::string_view payload, std::string& error);

enum class ReadStatus { Frame, Eof, Error };
// Eof: the peer closed cleanly between frames. Error: I/O error, a truncated frame or a bad
// length (`error` says which).
ReadStatus read_frame(int fd, std::string& payload, std::string& error,
                      size_t max_payload = kMaxFrameBytes);

}  // namespace cairn::init::control
