// Verifies raft 0.15's closed log segments ("FIRST-LAST" files, 16 digits each) before
// libdqlite loads them.
//
// Why: raft 0.15 starts with "auto recovery" on, and libdqlite 1.11 gives no way to turn it
// off. When the LAST closed segment is corrupt (a checksum mismatch, a missing entry),
// raft renames it and every open segment to "corrupt-<ns>-<name>" and starts without
// them: committed, acknowledged writes silently disappear. Such damage cannot come from a
// crash (a segment is closed only after it was written and synced), so it is refused.
// Open segments are left to raft: a torn tail after kill -9 is expected there and raft
// truncates it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cairn::dqlite {

// If `name` is a closed segment's file name, its first and last entry index.
struct SegmentRange {
  uint64_t first = 0;
  uint64_t last = 0;
};
std::optional<SegmentRange> parse_closed_segment_name(const std::string& name);

// Reads `dir`/`name` and checks it the way raft's loader does: format version 1, then
// batches of [header crc32, data crc32, entry count, per-entry term/type/size, data] whose
// checksums match and whose entries number exactly last - first + 1. Returns "" if the file
// is intact, else the reason ("data checksum mismatch in batch 3 at byte 4120", "file is
// truncated: batch 2 at byte 96 needs 4104 bytes, 4000 left", ...).
std::string check_closed_segment(const std::string& dir, const std::string& name,
                                 SegmentRange range);

// raft's checksum: CRC-32, polynomial 0x04c11db7, MSB first, init 0, no final xor
// (libiberty's crc32). Exposed for tests.
uint32_t raft_crc32(const void* data, size_t size, uint32_t init = 0);

}  // namespace cairn::dqlite
