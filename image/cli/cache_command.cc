#include "image/cli/cache_command.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "image/cache/cache_limits.h"
#include "image/cache/cache_prune.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

constexpr const char* kCacheUsage =
    "usage: cairn-image cache info  [--cache DIR]\n"
    "       cairn-image cache prune [--cache DIR] [--max-size SIZE] [--max-age DAYS] "
    "[--dry-run]\n"
    "       cairn-image cache clean [--cache DIR] [--dry-run]\n"
    "SIZE: 8G, 500M, 0 (no bound); DAYS: 30, 0.5, 0 (no bound). Defaults: "
    "$CAIRN_IMAGE_CACHE_MAX_SIZE or 8G, $CAIRN_IMAGE_CACHE_MAX_AGE or 30 days.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "cairn-image cache: %s\n%s", message.c_str(), kCacheUsage);
  return 2;
}

}  // namespace

fs::path default_cache_dir() {
  const char* env = std::getenv("CAIRN_IMAGE_CACHE");
  return env && *env ? fs::path(env) : fs::path("/var/cache/cairn-image");
}

int cache_main(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("which action? (info, prune, clean)");
  const std::string& action = args[0];
  if (action == "--help" || action == "-h") {
    std::fputs(kCacheUsage, stdout);
    return 0;
  }
  if (action != "info" && action != "prune" && action != "clean")
    return usage_error("unknown action '" + action + "' (info, prune, clean)");
  CacheLimits limits;
  try {
    limits = cache_limits_from_env();
  } catch (const std::exception& e) {
    return usage_error(e.what());
  }
  fs::path dir = default_cache_dir();
  bool dry_run = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v, error;
    if (a == "--cache") {
      if (!value(v) || v.empty()) return usage_error("--cache needs a directory");
      dir = v;
    } else if (a == "--max-size" && action == "prune") {
      if (!value(v)) return usage_error("--max-size needs a size (8G, 500M, 0)");
      auto size = parse_cache_size(v, error);
      if (!size) return usage_error("--max-size '" + v + "': " + error);
      limits.max_bytes = *size;
    } else if (a == "--max-age" && action == "prune") {
      if (!value(v)) return usage_error("--max-age needs a number of days (30, 0.5, 0)");
      auto age = parse_cache_age(v, error);
      if (!age) return usage_error("--max-age '" + v + "': " + error);
      limits.max_age_seconds = *age;
    } else if (a == "--dry-run" && action != "info") {
      dry_run = true;
    } else {
      return usage_error("'" + action + "' does not take '" + a + "'");
    }
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (action != "info" || fs::exists(dir, ec)) {
      std::fprintf(stderr, "cairn-image cache: %s is not a directory\n", dir.c_str());
      return action == "info" ? 1 : 0;
    }
    std::printf("cache %s: empty (no directory yet)\n", dir.c_str());
    return 0;
  }
  auto cfs = make_real_cache_fs();
  if (action == "info") {
    std::fputs(format_cache_info(dir, scan_cache(*cfs, dir), limits).c_str(), stdout);
    return 0;
  }
  PruneRequest request;
  request.limits = limits;
  request.clean = action == "clean";
  request.dry_run = dry_run;
  PruneReport report = prune_cache(*cfs, dir, request);
  std::fputs(format_prune_report(report, dry_run).c_str(), stdout);
  return report.errors.empty() ? 0 : 1;
}

}  // namespace cairn::image
