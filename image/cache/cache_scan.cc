// scan_cache: the cache directory as a list of entries (cache_prune.h describes the layout).
#include <algorithm>
#include <map>

#include "image/cache/cache_meta.h"
#include "image/cache/cache_prune.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

constexpr int64_t kLeftoverAge = 86400;  // no build runs for a day: its partial file is dead

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Shared by rootfs/ and initramfs/: a partial file of a running or dead build.
bool add_partial(const std::string& area, const CacheFileInfo& f, int64_t now,
                 std::vector<CacheEntry>& out) {
  if (f.name.find(".partial-") == std::string::npos) return false;
  CacheEntry e;
  e.name = area + "/" + f.name;
  e.kind = "partial";
  e.files = {e.name};
  e.bytes = f.bytes;
  e.last_use = f.mtime;
  bool dead = now - f.mtime > kLeftoverAge;
  e.state = dead ? EntryState::kLeftover : EntryState::kUnmanaged;
  e.detail = dead ? "left by an interrupted build" : "being written by a build";
  out.push_back(std::move(e));
  return true;
}

// Fills state/kind/detail/needs of `e` from its .meta (if any).
void apply_meta(CacheFs& fs, const fs::path& dir, const std::string& meta_rel,
                const std::string& expected_format, CacheEntry& e) {
  auto text = fs.read(dir / meta_rel);
  if (!text) {
    e.state = EntryState::kLegacy;
    e.detail = "no .meta (made before cache metadata; format unknown)";
    return;
  }
  e.files.push_back(meta_rel);
  std::vector<Diagnostic> diags;
  auto meta = parse_cache_meta(*text, meta_rel, diags);
  if (!meta) {
    e.state = EntryState::kObsolete;
    e.detail = "unreadable .meta: " + diags.front().str();
    return;
  }
  e.kind = cache_kind_name(meta->kind);
  e.detail = meta->recipe;
  if (meta->format != expected_format) {
    e.state = EntryState::kObsolete;
    e.detail = "format " + meta->format + " (cairn-image reads " + expected_format + ")";
    return;
  }
  for (const auto& deb : meta->debs) e.needs.push_back("debs/" + meta->debs_dir + "/" + deb);
}

// rootfs/ or initramfs/: main files (.tar / .img) with their sidecars, .current pointers,
// partials, orphaned .meta files.
void scan_area(CacheFs& fs, const fs::path& dir, const std::string& area, int64_t now,
               std::vector<CacheEntry>& out) {
  const bool rootfs = area == "rootfs";
  const std::string main_ext = rootfs ? ".tar" : ".img";
  const std::string format = rootfs ? kRootfsCacheFormat : kInitramfsCacheFormat;
  auto files = fs.list(dir / area);
  std::map<std::string, const CacheFileInfo*> by_name;
  for (const auto& f : files) by_name[f.name] = &f;
  auto stem_of = [&](const std::string& name) {
    return rootfs ? name.substr(0, name.size() - (ends_with(name, ".tar") ? 4 : 5))
                  : name.substr(0, name.find('.'));
  };
  for (const auto& f : files) {
    if (add_partial(area, f, now, out)) continue;
    CacheEntry e;
    e.name = area + "/" + f.name;
    e.bytes = f.bytes;
    e.last_use = f.mtime;
    if (f.is_dir || f.is_symlink) {
      e.kind = f.is_dir ? "directory" : "symlink";
      e.state = EntryState::kUnmanaged;
      e.detail = "not made by cairn-image";
      out.push_back(std::move(e));
      continue;
    }
    if (rootfs && ends_with(f.name, ".current")) {
      e.kind = "pointer";
      e.files = {e.name};
      e.detail = "index hash last resolved for a package set";
      out.push_back(std::move(e));
      continue;
    }
    if (ends_with(f.name, main_ext)) {
      std::string stem = stem_of(f.name);
      e.kind = rootfs ? (f.name.find("-tree-") != std::string::npos ? "rootfs-tree" : "rootfs")
                      : "initramfs";
      e.files = {e.name};
      e.lock = e.name;
      if (!rootfs && by_name.count(f.name + ".modules")) {
        e.files.push_back(e.name + ".modules");
        e.bytes += by_name[f.name + ".modules"]->bytes;
      }
      std::string meta = stem + ".meta";
      if (by_name.count(meta)) e.bytes += by_name[meta]->bytes;
      apply_meta(fs, dir, area + "/" + meta, format, e);
      out.push_back(std::move(e));
      continue;
    }
    bool sidecar = ends_with(f.name, ".meta") || (!rootfs && ends_with(f.name, ".img.modules"));
    if (sidecar) {
      std::string stem =
          ends_with(f.name, ".meta") ? f.name.substr(0, f.name.size() - 5) : stem_of(f.name);
      if (by_name.count(stem + main_ext)) continue;  // belongs to that entry
      e.kind = "sidecar";
      e.files = {e.name};
      e.state = EntryState::kLeftover;
      e.detail = "its " + main_ext + " is gone";
      out.push_back(std::move(e));
      continue;
    }
    e.kind = "file";
    e.state = EntryState::kUnmanaged;
    e.detail = "not made by cairn-image";
    out.push_back(std::move(e));
  }
}

void scan_debs(CacheFs& fs, const fs::path& dir, std::vector<CacheEntry>& out) {
  for (const auto& sub : fs.list(dir / "debs")) {
    std::string rel = "debs/" + sub.name;
    if (!sub.is_dir || sub.is_symlink) {
      CacheEntry e;
      e.name = rel;
      e.kind = sub.is_symlink ? "symlink" : "file";
      e.state = EntryState::kUnmanaged;
      e.detail = sub.is_symlink ? "symlink to another cache's .debs: pruned there, not here"
                                : "not made by cairn-image";
      e.bytes = sub.bytes;
      out.push_back(std::move(e));
      continue;
    }
    for (const auto& f : fs.list(dir / rel)) {
      CacheEntry e;
      e.name = rel + "/" + f.name;
      e.bytes = f.bytes;
      e.last_use = f.mtime;
      if (!f.is_dir && !f.is_symlink && ends_with(f.name, ".deb")) {
        e.kind = "deb";
        e.files = {e.name};
        e.lock = rel;  // builds lock the whole directory while apt reads it
      } else {
        e.kind = f.is_dir ? "directory" : "file";
        e.state = EntryState::kUnmanaged;
        e.detail = "not a .deb";
      }
      out.push_back(std::move(e));
    }
  }
}

}  // namespace

const char* entry_state_name(EntryState state) {
  switch (state) {
    case EntryState::kCurrent:
      return "current";
    case EntryState::kLegacy:
      return "legacy";
    case EntryState::kObsolete:
      return "obsolete";
    case EntryState::kLeftover:
      return "leftover";
    case EntryState::kUnmanaged:
      return "unmanaged";
  }
  return "?";
}

std::vector<CacheEntry> scan_cache(CacheFs& fs, const fs::path& dir) {
  std::vector<CacheEntry> out;
  int64_t now = fs.now();
  for (const auto& top : fs.list(dir)) {
    if (top.is_dir && !top.is_symlink && (top.name == "rootfs" || top.name == "initramfs")) {
      scan_area(fs, dir, top.name, now, out);
      continue;
    }
    if (top.is_dir && !top.is_symlink && top.name == "debs") {
      scan_debs(fs, dir, out);
      continue;
    }
    // Not cairn-image's build caches: sysroot/ (scripts/cross-arm64.sh), a bench's mkosi/,
    // a symlinked area. Listed with their size so `info` accounts for the whole directory.
    CacheEntry e;
    e.name = top.name;
    e.kind = top.is_symlink ? "symlink" : top.is_dir ? "directory" : "file";
    e.state = EntryState::kUnmanaged;
    if (top.is_dir && !top.is_symlink) {
      auto [bytes, newest] = fs.tree_usage(dir / top.name);
      e.bytes = bytes;
      e.last_use = newest;
    } else {
      e.bytes = top.bytes;
      e.last_use = top.mtime;
    }
    e.detail = top.name == "sysroot" ? "arm64 sysroots of scripts/cross-arm64.sh"
               : top.is_symlink      ? "symlink: not followed"
                                     : "not made by cairn-image build";
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(),
            [](const CacheEntry& a, const CacheEntry& b) { return a.name < b.name; });
  return out;
}

}  // namespace cairn::image
