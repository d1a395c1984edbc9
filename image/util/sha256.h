// SHA-256 of files and strings (OpenSSL EVP), as lower-case hex. Used for artifact pins, the
// manifest, and to derive every seeded identifier (UUIDs, verity salt) of a build.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace cairn::image {

std::array<uint8_t, 32> sha256_bytes(std::string_view data);
std::string sha256_hex(std::string_view data);
// Throws std::runtime_error naming the file if it cannot be read.
std::string sha256_file(const std::filesystem::path& file);
std::string to_hex(const uint8_t* data, size_t size);

// SHA-256 over a stream assembled piece by piece: how the disk stage hashes the raw image from
// its parts (partition images, the partition table areas) while it writes it, instead of
// reading the whole 1+ GB file back afterwards.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void update(const void* data, size_t size);
  void update_zeros(uint64_t count);
  // `length` bytes of `file` from `offset`; holes (SEEK_HOLE) are hashed as zeros without
  // being read, and bytes past the file's end count as zeros. Throws naming the file.
  void update_file(const std::filesystem::path& file, uint64_t offset, uint64_t length);
  std::string hex();  // finishes the digest; call once

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace cairn::image
