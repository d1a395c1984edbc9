// The one object every build stage reads and extends (mkosi's pattern: a pipeline of named
// stages over one config object). Stages run in order; each fills the fields the next ones use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image/build/dpkg_status.h"
#include "image/cache/cache_limits.h"
#include "image/cache/cache_lock.h"
#include "image/layout/disk_layout.h"
#include "image/recipe/recipe.h"

namespace cairn::image {

struct BuildOptions {
  std::filesystem::path recipe_file;
  std::filesystem::path out_dir;      // final output directory (replaced atomically at the end)
  std::filesystem::path bin_dir;      // cairn binaries for the recipe's arch (cairn-init, ...)
  std::filesystem::path cache_dir;    // package and rootfs cache, outside the repository
  std::vector<OutputFormat> formats;  // non-empty: overrides the recipe's [image] formats
  // Where the scratch work directory (the root tree, partition images) goes: "" = beside
  // out_dir. The CLI picks a tmpfs (/dev/shm) when it has room: a cached rebuild extracts and
  // re-reads ~10k files (350 MB), which on a loaded disk costs seconds of writeback.
  std::filesystem::path work_parent;
  bool keep_work = false;  // leave the work directory for debugging
  bool verbose = false;    // pass tools' stderr through
  // Evict from cache_dir down to these after a successful build (image/cache/cache_prune.h);
  // unset: no eviction (tests of the pipeline itself).
  std::optional<CacheLimits> cache_limits;
};

// A file in the output directory, for the manifest.
struct OutputFile {
  std::string name;  // file name inside the output directory
  uint64_t size = 0;
  std::string sha256;
};

struct BuildContext {
  BuildOptions options;
  Recipe recipe;
  DiskLayout layout;
  int64_t epoch = 0;  // SOURCE_DATE_EPOCH of this build
  std::string seed;

  std::filesystem::path work;     // scratch directory beside the output (deleted at the end)
  std::filesystem::path staging;  // becomes options.out_dir on success
  std::filesystem::path rootfs;   // the image's root directory tree (work/rootfs)

  // Shared locks on the cache entries this build uses (image/cache/cache_lock.h): held until
  // the build ends so no eviction removes them meanwhile.
  std::vector<std::unique_ptr<CacheLock>> cache_locks;

  // rootfs stage
  std::string rootfs_cache_key;
  bool rootfs_from_cache = false;
  std::vector<PackageInfo> packages;  // the rootfs's var/lib/dpkg/status (dpkg_status.h)
  // Modules removed because they need an omitted one (omit-modules): (path, needed path).
  std::vector<std::pair<std::string, std::string>> omitted_dependents;
  std::string kernel_version;
  std::filesystem::path kernel_image;  // work/vmlinuz (uncompressed PE Image on arm64)

  // install stage
  // Boot-only files moved out of the tree (they belong on the boot partition, not the root):
  // systemd-boot/ (usr/lib/systemd/boot/efi), dtbs/ (usr/lib/linux-image-<v>),
  // raspi-firmware/ (usr/lib/raspi-firmware).
  std::filesystem::path boot_assets;
  std::vector<std::string> installed_binaries;  // paths inside the image
  std::vector<std::string> installed_services;
  // What stage 1 reads ahead at boot (usr/share/cairn/readahead), in order: cairn-init, then
  // the enabled services' executables. root-compress-files = "boot" compresses these.
  std::vector<std::string> boot_files;

  // initramfs stage
  std::filesystem::path initramfs;
  std::vector<std::string> initramfs_modules;

  // root image stage
  std::filesystem::path root_image;  // erofs + verity hash tree, exactly the partition size
  uint64_t erofs_size = 0;
  uint64_t verity_hash_offset = 0;
  std::string verity_root_hash;
  std::string verity_salt;
  std::string verity_uuid;
  std::string erofs_uuid;

  // boot and data stages
  std::filesystem::path boot_image;
  std::filesystem::path data_image;
  std::string boot_volume_id;
  std::string data_uuid;
  std::string cmdline_a, cmdline_b;

  // disk and outputs
  std::filesystem::path raw_image;  // staging/<name>.img
  std::string raw_sha256;           // its sha256, computed by the disk stage from its parts
  std::vector<OutputFile> outputs;

  // Environment for tools that honour it (mkfs.*, mtools, mmdebstrap, tar).
  std::vector<std::pair<std::string, std::string>> tool_env() const;
};

}  // namespace cairn::image
