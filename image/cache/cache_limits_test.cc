#include "image/cache/cache_limits.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace cairn::image {
namespace {

TEST(CacheLimits, Sizes) {
  std::string error;
  EXPECT_EQ(parse_cache_size("8G", error), 8ull << 30);
  EXPECT_EQ(parse_cache_size("500m", error), 500ull << 20);
  EXPECT_EQ(parse_cache_size("1.5GiB", error), 3ull << 29);
  EXPECT_EQ(parse_cache_size("2TB", error), 2ull << 40);
  EXPECT_EQ(parse_cache_size("4k", error), 4096u);
  EXPECT_EQ(parse_cache_size("1024", error), 1024u);
  EXPECT_EQ(parse_cache_size("17B", error), 17u);
  EXPECT_EQ(parse_cache_size("0", error), 0u);
  for (const char* bad : {"", "G", "-1G", "8X", "8 G", "8GG", "1.5", "1e9", "99999999999T"}) {
    error.clear();
    EXPECT_FALSE(parse_cache_size(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  parse_cache_size("8X", error);
  EXPECT_EQ(error, "unknown size suffix 'X' (K, M, G, T)");
}

TEST(CacheLimits, Ages) {
  std::string error;
  EXPECT_EQ(parse_cache_age("30", error), 30 * 86400);
  EXPECT_EQ(parse_cache_age("7d", error), 7 * 86400);
  EXPECT_EQ(parse_cache_age("0.5", error), 43200);
  EXPECT_EQ(parse_cache_age("0", error), 0);
  for (const char* bad : {"", "d", "-3", "3w", "3 d", "99999999"}) {
    error.clear();
    EXPECT_FALSE(parse_cache_age(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(CacheLimits, FormatBytes) {
  EXPECT_EQ(format_bytes(17), "17 B");
  EXPECT_EQ(format_bytes(4096), "4.0 KiB");
  EXPECT_EQ(format_bytes(8ull << 30), "8.0 GiB");
}

TEST(CacheLimits, FromEnvironmentNamesTheBadVariable) {
  unsetenv("CAIRN_IMAGE_CACHE_MAX_SIZE");
  unsetenv("CAIRN_IMAGE_CACHE_MAX_AGE");
  CacheLimits defaults = cache_limits_from_env();
  EXPECT_EQ(defaults.max_bytes, 8ull << 30);
  EXPECT_EQ(defaults.max_age_seconds, 30 * 86400);
  setenv("CAIRN_IMAGE_CACHE_MAX_SIZE", "2G", 1);
  setenv("CAIRN_IMAGE_CACHE_MAX_AGE", "0", 1);
  CacheLimits set = cache_limits_from_env();
  EXPECT_EQ(set.max_bytes, 2ull << 30);
  EXPECT_EQ(set.max_age_seconds, 0);
  setenv("CAIRN_IMAGE_CACHE_MAX_SIZE", "lots", 1);
  try {
    cache_limits_from_env();
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "CAIRN_IMAGE_CACHE_MAX_SIZE='lots': expected a size like 8G, 500M or 0 (no limit)");
  }
  unsetenv("CAIRN_IMAGE_CACHE_MAX_SIZE");
  unsetenv("CAIRN_IMAGE_CACHE_MAX_AGE");
}

}  // namespace
}  // namespace cairn::image
