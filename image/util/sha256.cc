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

std::string sha256_file(const std::filesystem::path& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(file.string() + ": cannot read: " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};
  auto ctx = new_ctx();
  std::vector<char> buffer(1 << 20);
  static const std::vector<char> zeros(1 << 20, 0);
  const off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0) throw std::runtime_error(file.string() + ": " + std::strerror(errno));
  // A disk image is mostly holes (root-b, the empty data partition): hash them as the zeros
  // they read as, without reading them (SEEK_DATA/SEEK_HOLE; a file system without them
  // reports the whole file as data).
  off_t pos = 0;
  while (pos < size) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0) data = errno == ENXIO ? size : pos;
    for (; pos < data;) {
      size_t n = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(zeros.size()), data - pos));
      EVP_DigestUpdate(ctx.get(), zeros.data(), n);
      pos += static_cast<off_t>(n);
    }
    if (pos >= size) break;
    off_t hole = lseek(fd, pos, SEEK_HOLE);
    if (hole < 0 || hole > size) hole = size;
    while (pos < hole) {
      size_t want =
          static_cast<size_t>(std::min<off_t>(static_cast<off_t>(buffer.size()), hole - pos));
      ssize_t got = pread(fd, buffer.data(), want, pos);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0)
        throw std::runtime_error(file.string() + ": read error: " + std::strerror(errno));
      if (got == 0) throw std::runtime_error(file.string() + ": changed size while hashed");
      EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(got));
      pos += got;
    }
  }
  auto d = finish(ctx.get());
  return to_hex(d.data(), d.size());
}

}  // namespace cairn::image
