// How big and how old `cairn-image` lets its cache grow (docs/image.md, "Caches"): a size
// bound and an age bound, both over the entries' last use (least recently used goes first).
// Defaults: 8 GiB (three recipes' package sets with their trees are ~3.5 GiB; the rest is room
// for a re-resolve while the previous set is still in use) and 30 days.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::image {

struct CacheLimits {
  uint64_t max_bytes = 8ull << 30;       // 0: no size bound
  int64_t max_age_seconds = 30 * 86400;  // 0: no age bound
};

// "8G", "500M", "1.5GiB", "1024" (bytes), "0" (no bound). Suffixes K, M, G, T (powers of
// 1024), optionally followed by "iB" or "B"; case-insensitive. Returns nullopt and sets
// `error` (why, e.g. "unknown suffix 'X'") otherwise.
std::optional<uint64_t> parse_cache_size(std::string_view text, std::string& error);

// Days: "30", "30d", "0.5" (12 hours), "0" (no bound). Returns seconds, or nullopt + `error`.
std::optional<int64_t> parse_cache_age(std::string_view text, std::string& error);

// "8.0 GiB", "312.4 MiB", "4.0 KiB", "17 B".
std::string format_bytes(uint64_t bytes);

// The limits from the environment (CAIRN_IMAGE_CACHE_MAX_SIZE, CAIRN_IMAGE_CACHE_MAX_AGE),
// defaults for unset ones. Throws std::runtime_error naming the variable on a bad value.
CacheLimits cache_limits_from_env();

}  // namespace cairn::image
