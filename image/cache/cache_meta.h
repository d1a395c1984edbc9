// The sidecar file beside every cache entry cairn-image writes (<entry>.meta): what made the
// entry, in which format, and which cached .debs it was resolved from. `cairn-image cache`
// reads it to tell current entries from obsolete ones (a format cairn-image no longer reads
// is never hit again, so it goes first) and to keep the .debs a kept package set needs.
//
//   # cairn-image cache entry
//   format = cairn-rootfs-v2          required: the format tag the entry's key was made with
//   kind = rootfs-tree                required: rootfs | rootfs-tree | initramfs
//   recipe = qemu-x86_64              optional: the recipe whose build made it (for `info`)
//   debs = bookworm-amd64             optional: the debs/<dir> its packages came from
//   deb = bash_5.2.15-2+b13_amd64.deb one line per .deb of the package set (any number)
//
// Blank lines and lines starting with '#' are ignored; unknown keys are errors (a typo would
// otherwise silently drop what the key meant).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.h"

namespace cairn::image {

enum class CacheKind { kRootfs, kRootfsTree, kInitramfs };

const char* cache_kind_name(CacheKind kind);

struct CacheEntryMeta {
  std::string format;
  CacheKind kind = CacheKind::kRootfs;
  std::string recipe;
  std::string debs_dir;
  std::vector<std::string> debs;  // file names inside debs/<debs_dir>/
};

// Parses a .meta file's text. On error appends "file:line:col: reason" diagnostics and
// returns nullopt.
std::optional<CacheEntryMeta> parse_cache_meta(std::string_view text, const std::string& file,
                                               std::vector<Diagnostic>& diagnostics);

// The text parse_cache_meta reads back as `meta`.
std::string format_cache_meta(const CacheEntryMeta& meta);

// apt's file name for a package in its archive directory: name_version_arch.deb with the
// version's epoch colon written "%3a" (as apt stores it).
std::string deb_file_name(const std::string& name, const std::string& version,
                          const std::string& arch);

}  // namespace cairn::image
