#include "init/control/frame.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn::init::control {
namespace {

uint32_t read_be32(const char* p) {
  auto b = [&](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(p[i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// Reads exactly `size` bytes; returns the number read before EOF (< size) or -1 on error.
ssize_t read_full(int fd, char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

std::string frame(std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  auto size = static_cast<uint32_t>(payload.size());
  out += static_cast<char>(size >> 24);
  out += static_cast<char>(size >> 16);
  out += static_cast<char>(size >> 8);
  out += static_cast<char>(size);
  out.append(payload);
  return out;
}

FrameDecoder::Status FrameDecoder::next(std::string& payload, std::string& error) {
  if (failed_) {
    error = "stream already failed";
    return Status::Error;
  }
  if (buffered() < kFrameHeaderBytes) return Status::NeedMore;
  uint32_t size = read_be32(buffer_.data() + consumed_);
  if (size == 0 || size > max_payload_) {
    failed_ = true;
    error = "invalid frame length " + std::to_string(size) + " (allowed 1.." +
            std::to_string(max_payload_) + ")";
    return Status::Error;
  }
  if (buffered() < kFrameHeaderBytes + size) return Status::NeedMore;
  payload.assign(buffer_, consumed_ + kFrameHeaderBytes, size);
  consumed_ += kFrameHeaderBytes + size;
  // Compact once the consumed prefix dominates, so the buffer never grows without bound.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 4096 && consumed_ > buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return Status::Frame;
}

bool write_frame(int fd, std::string_view payload, std::string& error) {
  if (payload.empty() || payload.size() > kMaxFrameBytes) {
    error = "message of " + std::to_string(payload.size()) + " bytes cannot be framed";
    return false;
  }
  std::string data = frame(payload);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::string("write: ") + std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

ReadStatus read_frame(int fd, std::string& payload, std::string& error, size_t max_payload) {
  char header[kFrameHeaderBytes];
  ssize_t n = read_full(fd, header, sizeof header);
  if (n < 0) {
    error = std::string("read: ") + std::strerror(errno);
    return ReadStatus::Error;
  }
  if (n == 0) return ReadStatus::Eof;
  if (static_cast<size_t>(n) < sizeof header) {
    error = "connection closed in the middle of a frame header";
    return ReadStatus::Error;
  }
  uint32_t size = read_be32(header);
  if (size == 0 || size > max_payload) {
    error = "invalid frame length " + std::to_string(size);
    return ReadStatus::Error;
  }
  payload.resize(size);
  n = read_full(fd, payload.data(), size);
  if (n < 0) {
    error = std::string("read: ") + std::strerror(errno);
    return ReadStatus::Error;
  }
  if (static_cast<size_t>(n) < size) {
    error = "connection closed in the middle of a frame";
    return ReadStatus::Error;
  }
  return ReadStatus::Frame;
}

}  // namespace cairn::init::control
