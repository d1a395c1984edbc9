#include "datastore/dqlite/segment_check.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace cairn::dqlite {
namespace {

constexpr uint64_t kDiskFormat = 1;                    // UV__DISK_FORMAT
constexpr uint64_t kMaxSegmentSize = 8 * 1024 * 1024;  // UV__MAX_SEGMENT_SIZE
constexpr uint64_t kMaxBatchEntries = kMaxSegmentSize / (sizeof(uint64_t) * 4);
constexpr size_t kEntryHeaderSize = 16;  // term u64, type u8, 3 unused, size u32
// raft_entry types: RAFT_COMMAND, RAFT_BARRIER, RAFT_CHANGE.
constexpr uint8_t kMinEntryType = 1, kMaxEntryType = 3;

std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i << 24;
    for (int k = 0; k < 8; ++k) c = (c & 0x80000000u) ? (c << 1) ^ 0x04c11db7u : c << 1;
    t[i] = c;
  }
  return t;
}

// raft writes its segments in little-endian order (it refuses big-endian hosts).
uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

uint32_t raft_crc32(const void* data, size_t size, uint32_t init) {
  static const std::array<uint32_t, 256> table = make_table();
  uint32_t crc = init;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) crc = (crc << 8) ^ table[((crc >> 24) ^ p[i]) & 0xff];
  return crc;
}

std::optional<SegmentRange> parse_closed_segment_name(const std::string& name) {
  if (name.size() != 33 || name[16] != '-') return std::nullopt;
  std::string a = name.substr(0, 16), b = name.substr(17);
  if (!all_digits(a) || !all_digits(b)) return std::nullopt;
  return SegmentRange{std::stoull(a), std::stoull(b)};
}

std::string check_closed_segment(const std::string& dir, const std::string& name,
                                 SegmentRange range) {
  std::string path = dir + "/" + name;
  if (range.first == 0 || range.last < range.first) {
    return "the name's index range " + std::to_string(range.first) + "-" +
           std::to_string(range.last) + " is invalid";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot read: ") + std::strerror(errno);
  std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return "read error";
  const size_t size = buf.size();
  if (size == 0) return "file is empty";
  if (size < 8) return "file is truncated: " + std::to_string(size) + " bytes, no format header";
  uint64_t format = le64(buf.data());
  if (format != kDiskFormat) {
    return "unexpected format version " + std::to_string(format) + " (raft writes 1)";
  }
  const uint64_t expected = range.last - range.first + 1;
  uint64_t found = 0;
  size_t off = 8;
  for (unsigned batch = 1; off < size; ++batch) {
    const std::string where = "batch " + std::to_string(batch) + " at byte " + std::to_string(off);
    auto need = [&](uint64_t n) -> std::string {
      if (n <= size - off) return "";
      return "file is truncated: " + where + " needs " + std::to_string(n) + " bytes, " +
             std::to_string(size - off) + " left";
    };
    if (auto e = need(16); !e.empty()) return e;
    const uint32_t header_crc = le32(&buf[off]);
    const uint32_t data_crc = le32(&buf[off + 4]);
    const uint64_t n = le64(&buf[off + 8]);
    if (n == 0) return where + ": entry count is zero";
    if (n > kMaxBatchEntries) return where + ": entry count " + std::to_string(n) + " is too high";
    const uint64_t header_size = 8 + n * kEntryHeaderSize;
    if (auto e = need(8 + header_size); !e.empty()) return e;
    const uint8_t* header = &buf[off + 8];
    if (raft_crc32(header, header_size) != header_crc)
      return "header checksum mismatch in " + where;
    uint64_t data_size = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* entry = header + 8 + i * kEntryHeaderSize;
      if (entry[8] < kMinEntryType || entry[8] > kMaxEntryType) {
        return where + ": entry " + std::to_string(i + 1) + " has unknown type " +
               std::to_string(entry[8]);
      }
      data_size += le32(entry + 12);
    }
    if (auto e = need(8 + header_size + data_size); !e.empty()) return e;
    if (raft_crc32(header + header_size, data_size) != data_crc) {
      return "data checksum mismatch in " + where;
    }
    off += 8 + header_size + data_size;
    found += n;
  }
  if (found != expected) {
    return "holds " + std::to_string(found) + " entries, its name says " + std::to_string(expected);
  }
  return "";
}

}  // namespace cairn::dqlite
