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

}  // namespace cairn::image
