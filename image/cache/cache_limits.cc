#include "image/cache/cache_limits.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace cairn::image {
namespace {

// A non-negative decimal number "12" or "1.5": its value and how many characters it used.
std::optional<double> leading_number(std::string_view text, size_t& used) {
  used = 0;
  bool digits = false, dot = false;
  while (used < text.size()) {
    char c = text[used];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++used;
  }
  if (!digits || used > 30) return std::nullopt;
  return std::strtod(std::string(text.substr(0, used)).c_str(), nullptr);
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::optional<uint64_t> parse_cache_size(std::string_view text, std::string& error) {
  size_t used = 0;
  auto number = leading_number(text, used);
  if (!number) {
    error = "expected a size like 8G, 500M or 0 (no limit)";
    return std::nullopt;
  }
  std::string suffix;
  for (char c : text.substr(used)) suffix += lower(c);
  double scale = 1;
  if (!suffix.empty()) {
    const std::string units = "kmgt";
    size_t unit = units.find(suffix[0]);
    std::string rest = suffix.substr(1);
    if (suffix == "b") {
      rest = "";
    } else if (unit == std::string::npos || !(rest.empty() || rest == "b" || rest == "ib")) {
      error = "unknown size suffix '" + std::string(text.substr(used)) + "' (K, M, G, T)";
      return std::nullopt;
    } else {
      scale = std::pow(1024.0, static_cast<double>(unit + 1));
    }
  }
  double bytes = *number * scale;
  if (bytes >= 9.2e18) {
    error = "size too large";
    return std::nullopt;
  }
  if (scale == 1 && *number != std::floor(*number)) {
    error = "a size in bytes must be a whole number";
    return std::nullopt;
  }
  return static_cast<uint64_t>(bytes);
}

std::optional<int64_t> parse_cache_age(std::string_view text, std::string& error) {
  size_t used = 0;
  auto number = leading_number(text, used);
  std::string_view rest = text.substr(used);
  if (!number || !(rest.empty() || rest == "d" || rest == "D")) {
    error = "expected a number of days like 30, 30d or 0 (no limit)";
    return std::nullopt;
  }
  if (*number > 1e6) {
    error = "age too large (at most 1000000 days)";
    return std::nullopt;
  }
  return static_cast<int64_t>(std::llround(*number * 86400));
}

std::string format_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f %s", v, units[u]);
  return buffer;
}

CacheLimits cache_limits_from_env() {
  CacheLimits limits;
  std::string error;
  if (const char* v = std::getenv("CAIRN_IMAGE_CACHE_MAX_SIZE"); v && *v) {
    auto size = parse_cache_size(v, error);
    if (!size)
      throw std::runtime_error("CAIRN_IMAGE_CACHE_MAX_SIZE='" + std::string(v) + "': " + error);
    limits.max_bytes = *size;
  }
  if (const char* v = std::getenv("CAIRN_IMAGE_CACHE_MAX_AGE"); v && *v) {
    auto age = parse_cache_age(v, error);
    if (!age)
      throw std::runtime_error("CAIRN_IMAGE_CACHE_MAX_AGE='" + std::string(v) + "': " + error);
    limits.max_age_seconds = *age;
  }
  return limits;
}

}  // namespace cairn::image
