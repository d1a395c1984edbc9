#include "image/util/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace cairn::image {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

MdCtx new_ctx() {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256: cannot initialise OpenSSL digest");
  return ctx;
}

std::array<uint8_t, 32> finish(EVP_MD_CTX* ctx) {
  std::array<uint8_t, 32> out{};
  unsigned len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size())
    throw std::runtime_error("sha256: digest failed");
  return out;
}

}  // namespace

std::string to_hex(const uint8_t* data, size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    s += digits[data[i] >> 4];
    s += digits[data[i] & 15];
  }
  return s;
}

std::array<uint8_t, 32> sha256_bytes(std::string_view data) {
  auto ctx = new_ctx();
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return finish(ctx.get());
}

std::string sha256_hex(std::string_view data) {
  auto d = sha256_bytes(data);
  return to_hex(d.data(), d.size());
}

struct Sha256Stream::Impl {
  MdCtx ctx = new_ctx();
};

Sha256Stream::Sha256Stream() : impl_(new Impl) {}
Sha256Stream::~Sha256Stream() {
  delete impl_;
}

void Sha256Stream::update(const void* data, size_t size) {
  EVP_DigestUpdate(impl_->ctx.get(), data, size);
}

void Sha256Stream::update_zeros(uint64_t count) {
  static const std::vector<char> zeros(1 << 20, 0);
  while (count > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), count));
    update(zeros.data(), n);
    count -= n;
  }
}

void Sha256Stream::update_file(const std::filesystem::path& file, uint64_t offset,
                               uint64_t length) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(file.string() + ": cannot read: " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};
  const off_t file_end = lseek(fd, 0, SEEK_END);
  if (file_end < 0) throw std::runtime_error(file.string() + ": " + std::strerror(errno));
  const uint64_t end = offset + length;
  const uint64_t data_end = std::min<uint64_t>(end, static_cast<uint64_t>(file_end));
  std::vector<char> buffer(1 << 20);
  // A disk image is mostly holes (root-b, the empty data partition): hash them as the zeros
  // they read as, without reading them (SEEK_DATA/SEEK_HOLE; a file system without them
  // reports the whole file as data).
  uint64_t pos = offset;
  while (pos < data_end) {
    off_t data = lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
    uint64_t data_at = data < 0 ? (errno == ENXIO ? data_end : pos)
                                : std::min<uint64_t>(static_cast<uint64_t>(data), data_end);
    update_zeros(data_at - pos);
    pos = data_at;
    if (pos >= data_end) break;
    off_t hole = lseek(fd, static_cast<off_t>(pos), SEEK_HOLE);
    uint64_t hole_at =
        hole < 0 ? data_end : std::min<uint64_t>(static_cast<uint64_t>(hole), data_end);
    while (pos < hole_at) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), hole_at - pos));
      ssize_t got = pread(fd, buffer.data(), want, static_cast<off_t>(pos));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0)
        throw std::runtime_error(file.string() + ": read error: " + std::strerror(errno));
      if (got == 0) throw std::runtime_error(file.string() + ": changed size while hashed");
      update(buffer.data(), static_cast<size_t>(got));
      pos += static_cast<uint64_t>(got);
    }
  }
  if (pos < end) update_zeros(end - std::max(pos, offset));
}

std::string Sha256Stream::hex() {
  auto d = finish(impl_->ctx.get());
  return to_hex(d.data(), d.size());
}

std::string sha256_file(const std::filesystem::path& file) {
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(file, ec);
  if (ec) throw std::runtime_error(file.string() + ": cannot read: " + ec.message());
  Sha256Stream stream;
  stream.update_file(file, 0, size);
  return stream.hex();
}

}  // namespace cairn::image
