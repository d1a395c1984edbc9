// What is in a cairn-image cache directory and what eviction removes (docs/image.md,
// "Caches"). The layout (image/build/stage_rootfs.cc, stage_initramfs.cc):
//   rootfs/<suite>-<arch>-<key>.tar (+ .meta)       a resolved package set (kind rootfs)
//   rootfs/<suite>-<arch>-tree-<key>.tar (+ .meta)  that set after the kernel stage
//   rootfs/<suite>-<arch>-<set>.current            the index hash last resolved for a set
//   initramfs/<key>.img (+ .img.modules, .meta)
//   debs/<suite>-<arch>/*.deb                       every .deb fetched
//   sysroot/, anything else                         not cairn-image's: listed, never removed
//
// Eviction order: leftovers of interrupted builds (older than a day) and entries whose .meta
// names a format cairn-image no longer reads always go; then entries unused for longer than
// the age bound; then, while over the size bound, least recently used first in tiers: entries
// without a .meta (made before this scheme: their format is unknown; a build that hits one
// adopts it), .debs no kept package set needs, then current entries. A .deb a kept rootfs
// entry lists is kept (an offline re-extraction of that set needs it). Entries locked by a
// running build (cache_fs.h) are skipped and reported as in use.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "image/cache/cache_fs.h"
#include "image/cache/cache_limits.h"

namespace cairn::image {

// The format tags of the entries cairn-image reads today (the stages put them into the
// entries' keys and .meta files). Bump one when what goes into that kind of entry changes.
inline constexpr const char* kRootfsCacheFormat = "cairn-rootfs-v2";
inline constexpr const char* kInitramfsCacheFormat = "cairn-initramfs-v1";

enum class EntryState {
  kCurrent,    // a .meta with today's format (or a .deb, a .current pointer)
  kLegacy,     // no .meta: made before entries had one, format unknown
  kObsolete,   // a .meta naming an old format, or an unreadable one: never hit again
  kLeftover,   // a partial file of a build that died, an orphaned .meta
  kUnmanaged,  // not cairn-image's (sysroot/, symlinked areas, unknown files): never removed
};

const char* entry_state_name(EntryState state);

struct CacheEntry {
  std::string name;                // path of the main file relative to the cache directory
  std::string kind;                // rootfs, rootfs-tree, initramfs, deb, pointer, partial, ...
  std::vector<std::string> files;  // relative paths removed with the entry
  std::string lock;                // relative path locked while removing ("" = none needed)
  uint64_t bytes = 0;
  int64_t last_use = 0;  // mtime of the main file: builds touch it on every hit
  EntryState state = EntryState::kCurrent;
  std::string detail;              // the recipe that made it, or why it is obsolete/unmanaged
  std::vector<std::string> needs;  // .debs (relative paths) this entry's package set lists
};

// Every entry under `dir`, sorted by name.
std::vector<CacheEntry> scan_cache(CacheFs& fs, const std::filesystem::path& dir);

struct PruneRequest {
  CacheLimits limits;
  bool clean = false;    // remove every entry cairn-image manages (not only over the limits)
  bool dry_run = false;  // report what would go, remove nothing
};

struct Eviction {
  std::string name;
  uint64_t bytes = 0;
  std::string reason;
};

struct PruneReport {
  std::vector<Eviction> evicted;
  std::vector<std::string> in_use;  // would have gone, but a running build holds them
  std::vector<std::string> errors;  // removals that failed
  uint64_t bytes_before = 0;        // managed entries, before and after
  uint64_t bytes_after = 0;
};

PruneReport prune_cache(CacheFs& fs, const std::filesystem::path& dir, const PruneRequest& request);

// `cairn-image cache info`: one line per entry (.debs summarised per directory), totals and
// the limits in force.
std::string format_cache_info(const std::filesystem::path& dir,
                              const std::vector<CacheEntry>& entries, const CacheLimits& limits);

// `cairn-image cache prune/clean`: what went (or would go), what was in use, the totals.
std::string format_prune_report(const PruneReport& report, bool dry_run);

}  // namespace cairn::image
