// Fuzzes the cache .meta parser and the size/age parsers of `cairn-image cache`: any text
// gives a result or file:line:col diagnostics, never a crash; a parsed .meta formats back to
// text that parses to the same thing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "image/cache/cache_limits.h"
#include "image/cache/cache_meta.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  cairn::image::parse_cache_size(text, error);
  cairn::image::parse_cache_age(text, error);
  std::vector<cairn::Diagnostic> diags;
  auto meta = cairn::image::parse_cache_meta(text, "x.meta", diags);
  if (!meta) {
    if (diags.empty()) abort();
    return 0;
  }
  std::vector<cairn::Diagnostic> again;
  auto back = cairn::image::parse_cache_meta(cairn::image::format_cache_meta(*meta), "y", again);
  if (!back || back->format != meta->format || back->kind != meta->kind ||
      back->recipe != meta->recipe || back->debs_dir != meta->debs_dir || back->debs != meta->debs)
    abort();
  return 0;
}
