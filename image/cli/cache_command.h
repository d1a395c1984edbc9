// `cairn-image cache info|prune|clean`: what the build cache holds and evicting from it
// (image/cache/cache_prune.h has the order and the locking; docs/image.md, "Caches").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cairn::image {

// --cache's default: $CAIRN_IMAGE_CACHE, else /var/cache/cairn-image.
std::filesystem::path default_cache_dir();

// args: what follows "cache". Returns the exit status (0 ok, 1 something could not be removed,
// 2 bad arguments).
int cache_main(const std::vector<std::string>& args);

}  // namespace cairn::image
