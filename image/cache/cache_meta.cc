#include "image/cache/cache_meta.h"

namespace cairn::image {
namespace {

constexpr std::string_view kSpace = " \t";

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

// Values are single words: a file name, a format tag. No path separators in names that are
// joined to a directory (a meta file must not point prune at files outside the cache).
bool valid_value(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v)
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == 0x7f) return false;
  return v != "." && v != "..";
}

}  // namespace

const char* cache_kind_name(CacheKind kind) {
  switch (kind) {
    case CacheKind::kRootfs:
      return "rootfs";
    case CacheKind::kRootfsTree:
      return "rootfs-tree";
    case CacheKind::kInitramfs:
      return "initramfs";
  }
  return "?";
}

std::optional<CacheEntryMeta> parse_cache_meta(std::string_view text, const std::string& file,
                                               std::vector<Diagnostic>& diagnostics) {
  CacheEntryMeta meta;
  bool have_format = false, have_kind = false, ok = true;
  size_t errors_before = diagnostics.size();
  int line_no = 0;
  auto error = [&](int column, std::string message) {
    diagnostics.push_back({file, line_no, column, std::move(message)});
    ok = false;
  };
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view body = trim(line);
    if (body.empty() || body[0] == '#') continue;
    size_t eq = line.find('=');
    int key_col = static_cast<int>(line.find_first_not_of(kSpace)) + 1;
    if (eq == std::string_view::npos) {
      error(key_col, "expected 'key = value'");
      continue;
    }
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    size_t value_pos = line.find_first_not_of(kSpace, eq + 1);
    int value_col = static_cast<int>(value_pos == std::string_view::npos ? eq + 2 : value_pos + 1);
    if (!valid_value(value)) {
      error(value_col,
            "'" + std::string(key) + "' needs one word without spaces, control characters or '/'");
      continue;
    }
    if (key == "format") {
      if (have_format) error(key_col, "duplicate key 'format'");
      have_format = true;
      meta.format = value;
    } else if (key == "kind") {
      if (have_kind) error(key_col, "duplicate key 'kind'");
      have_kind = true;
      if (value == "rootfs")
        meta.kind = CacheKind::kRootfs;
      else if (value == "rootfs-tree")
        meta.kind = CacheKind::kRootfsTree;
      else if (value == "initramfs")
        meta.kind = CacheKind::kInitramfs;
      else
        error(value_col,
              "unknown kind '" + std::string(value) + "' (rootfs, rootfs-tree, initramfs)");
    } else if (key == "recipe") {
      meta.recipe = value;
    } else if (key == "debs") {
      meta.debs_dir = value;
    } else if (key == "deb") {
      if (value.size() < 5 || value.substr(value.size() - 4) != ".deb")
        error(value_col, "'deb' must name a .deb file");
      else
        meta.debs.emplace_back(value);
    } else {
      error(key_col, "unknown key '" + std::string(key) + "' (format, kind, recipe, debs, deb)");
    }
  }
  if (!have_format) diagnostics.push_back({file, 0, 0, "missing 'format'"}), ok = false;
  if (!have_kind) diagnostics.push_back({file, 0, 0, "missing 'kind'"}), ok = false;
  if (!meta.debs.empty() && meta.debs_dir.empty())
    diagnostics.push_back({file, 0, 0, "'deb' lines need 'debs' (their directory)"}), ok = false;
  if (!ok || diagnostics.size() != errors_before) return std::nullopt;
  return meta;
}

std::string format_cache_meta(const CacheEntryMeta& meta) {
  std::string out = "# cairn-image cache entry\nformat = " + meta.format +
                    "\nkind = " + cache_kind_name(meta.kind) + "\n";
  if (!meta.recipe.empty()) out += "recipe = " + meta.recipe + "\n";
  if (!meta.debs_dir.empty()) out += "debs = " + meta.debs_dir + "\n";
  for (const auto& d : meta.debs) out += "deb = " + d + "\n";
  return out;
}

std::string deb_file_name(const std::string& name, const std::string& version,
                          const std::string& arch) {
  std::string v;
  for (char c : version) v += c == ':' ? std::string("%3a") : std::string(1, c);
  return name + "_" + v + "_" + arch + ".deb";
}

}  // namespace cairn::image
