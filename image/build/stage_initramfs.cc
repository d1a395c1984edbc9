// Stage "initramfs": cairn-init (stage 1) as /init plus the recipe's boot modules, built by
// image/initramfs (build_initramfs) from the kernel in the rootfs. The result is cached under
// <cache>/initramfs/ by the hash of everything that goes in (the init binary's bytes, the
// rootfs tree key, the module list, the epoch), so an overlay-only rebuild reuses it. A hit is
// locked for the rest of the build and touched (image/cache: eviction is LRU); <key>.meta
// records the format for `cairn-image cache`.
#include <unistd.h>

#include <fstream>

#include "image/build/pipeline.h"
#include "image/cache/cache_lock.h"
#include "image/cache/cache_meta.h"
#include "image/cache/cache_prune.h"
#include "image/initramfs/initramfs.h"
#include "image/util/sha256.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

void write_meta(const BuildContext& ctx, const fs::path& cached) {
  fs::path meta_file = cached.parent_path() / (cached.stem().string() + ".meta");
  if (fs::exists(meta_file)) return;
  CacheEntryMeta meta;
  meta.format = kInitramfsCacheFormat;
  meta.kind = CacheKind::kInitramfs;
  meta.recipe = ctx.recipe.name;
  std::string partial = meta_file.string() + ".partial-" + std::to_string(getpid());
  std::ofstream(partial, std::ios::binary) << format_cache_meta(meta);
  std::error_code ec;
  fs::rename(partial, meta_file, ec);
  if (ec) fs::remove(partial, ec);
}

}  // namespace

void stage_initramfs(BuildContext& ctx) {
  InitramfsRequest request;
  // The stripped copy the install stage put into the tree.
  request.init_binary = ctx.rootfs / "usr/sbin/cairn-init";
  request.modules_root = ctx.rootfs;
  request.kernel_version = ctx.kernel_version;
  request.modules = ctx.recipe.boot_modules;
  request.output = ctx.work / "initramfs.img";
  request.source_date_epoch = ctx.epoch;
  request.compression = InitramfsCompression::kZstd;

  std::string key_text = std::string(kInitramfsCacheFormat) + "\n" +
                         sha256_file(request.init_binary) + "\n" + ctx.rootfs_cache_key + "\n" +
                         ctx.kernel_version + "\n" + std::to_string(ctx.epoch) + "\n";
  for (const auto& m : request.modules) key_text += m + ",";
  fs::path cache = ctx.options.cache_dir / "initramfs";
  fs::path cached = cache / (sha256_hex(key_text).substr(0, 24) + ".img");
  fs::path cached_list = cached;
  cached_list += ".modules";
  auto lock = lock_shared_if_exists(cached);
  if (lock && fs::exists(cached_list)) {
    touch_last_use(cached);
    write_meta(ctx, cached);
    ctx.cache_locks.push_back(std::move(lock));
    fs::copy_file(cached, request.output, fs::copy_options::overwrite_existing);
    std::ifstream in(cached_list);
    for (std::string line; std::getline(in, line);) ctx.initramfs_modules.push_back(line);
    ctx.initramfs = request.output;
    return;
  }
  InitramfsResult result = build_initramfs(request);
  ctx.initramfs = request.output;
  ctx.initramfs_modules = result.module_paths;
  fs::create_directories(cache);
  std::string suffix = ".partial-" + std::to_string(getpid());
  {
    std::ofstream out(cached_list.string() + suffix);
    for (const auto& m : result.module_paths) out << m << "\n";
  }
  fs::copy_file(request.output, cached.string() + suffix, fs::copy_options::overwrite_existing);
  fs::rename(cached_list.string() + suffix, cached_list);
  fs::rename(cached.string() + suffix, cached);
  write_meta(ctx, cached);
}

}  // namespace cairn::image
