// What the Debian archive serves now, as a cache key: the rootfs cache (stage_rootfs.cc) is
// keyed by the package *names* of a recipe, so without this a machine with a warm cache would
// keep building yesterday's package versions forever (e.g. an old kernel after a security
// update). Each apt source's InRelease (a few 10 KB, signed by the archive) lists the sha256 of
// its Packages indexes; when one changes, the cached tree is re-resolved by mmdebstrap (which
// reuses every cached .deb, so only changed packages are downloaded).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "image/recipe/recipe.h"

namespace cairn::image {

struct AptSource {
  std::string uri;    // "http://deb.debian.org/debian"
  std::string suite;  // "bookworm-security"
};

// The recipe's main mirror + suite first, then [packages] extra-sources in order.
std::vector<AptSource> apt_sources(const Recipe& recipe);

// The lines of an InRelease file's SHA256 section that name one of `components`'
// binary-<arch>/Packages indexes, sorted, one per line ("<sha256> <size> <path>"). Empty if
// there is none (the suite does not carry that component or arch).
std::string packages_index_lines(const std::string& inrelease,
                                 const std::vector<std::string>& components,
                                 const std::string& debian_arch);

// Downloads every source's InRelease (apt-helper, 20 s timeout each) into `scratch` and
// returns "<uri> <suite>\n<index lines>" for all of them. Throws std::runtime_error naming
// the URL when one cannot be fetched or lists no Packages index for the recipe.
std::string fetch_archive_index_key(const Recipe& recipe, const std::filesystem::path& scratch);

}  // namespace cairn::image
