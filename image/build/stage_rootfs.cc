// Stage "rootfs": the image's root tree from Debian packages. mmdebstrap --variant=extract
// unpacks the recipe's packages and their dependencies without running maintainer scripts
// (appliance style: nothing is configured at build time, cairn-init owns boot). Caches under
// the cache dir keep rebuilds offline and fast:
//   debs/<suite>-<arch>/            every .deb ever fetched (fed back to apt: no re-download)
//   rootfs/<suite>-<arch>-<key>.tar the extracted packages for one exact package set (key =
//                                   hash of suite, mirror, arch, components, packages, epoch
//                                   and the archive's current Packages index hashes, so a
//                                   changed archive means a fresh resolve: archive_index.h)
//   rootfs/<suite>-<arch>-<set>.current  the index hash last resolved for a package set: the
//                                   offline fallback (with a warning), and what is deleted when
//                                   a newer resolve replaces it
//   rootfs/...-tree-<key>.tar       that tree with the kernel taken out and [kernel]
//                                   omit-modules applied (with the modules that need them;
//                                   depmod re-run): a rebuild starts here
//   rootfs/<entry>.meta             beside each tar: its format, recipe and .debs
//                                   (image/cache/cache_meta.h), for `cairn-image cache`
// The build holds a shared lock on each tar it uses (and on debs/<dir> while apt reads it)
// and touches it on a hit, so eviction (image/cache/cache_prune.h) never removes them under
// it and goes least recently used first.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "image/build/archive_index.h"
#include "image/build/dpkg_status.h"
#include "image/build/pipeline.h"
#include "image/cache/cache_lock.h"
#include "image/cache/cache_meta.h"
#include "image/cache/cache_prune.h"
#include "image/initramfs/module_prune.h"
#include "image/util/process.h"
#include "image/util/read_text.h"
#include "image/util/sha256.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

// Bumped (image/cache/cache_prune.h) when the way the cached tree is made changes, so stale
// trees are not reused (v2: the tree has a dpkg status database of what apt resolved; modules
// that need omitted ones go too). Entries of an older format are evicted first.
constexpr const char* kRootfsFormat = kRootfsCacheFormat;

std::vector<std::string> package_set(const Recipe& r) {
  std::set<std::string> set(r.packages.begin(), r.packages.end());
  set.insert(r.kernel_package);
  if (r.board == Board::kUefi) set.insert("systemd-boot-efi");
  if (r.board == Board::kRpi) set.insert("raspi-firmware");
  return {set.begin(), set.end()};
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string shell_quote(const std::string& s) {
  if (s.find('\'') != std::string::npos)
    throw std::runtime_error("cache path must not contain a single quote: " + s);
  return "'" + s + "'";
}

// The extract hook's status writer ($1 = the tree): one "install ok unpacked" paragraph per
// unpacked .deb (its control fields), sorted by file name so the tree is reproducible. Paths
// in MMDEBSTRAP_ESSENTIAL are inside the tree (or absolute, for file:// mirrors).
constexpr const char* kWriteStatusHook =
    "set -e; "
    "[ -n \"$MMDEBSTRAP_ESSENTIAL\" ] || "
    "{ echo 'mmdebstrap named no unpacked packages (MMDEBSTRAP_ESSENTIAL)' >&2; exit 1; }; "
    "status=\"$1/var/lib/dpkg/status\"; "
    "for f in $(printf '%s\\n' $MMDEBSTRAP_ESSENTIAL | LC_ALL=C sort); do "
    "deb=\"$1$f\"; [ -e \"$deb\" ] || deb=\"$f\"; "
    "dpkg-deb --field \"$deb\" > \"$status.control\"; "
    "grep '^Package:' \"$status.control\"; echo 'Status: install ok unpacked'; "
    "grep -v '^Package:' \"$status.control\"; echo; "
    "done > \"$status.new\"; rm -f \"$status.control\"; mv \"$status.new\" \"$status\"";

// Returns a shared lock on the new tar, taken before it is published: no eviction can remove
// it between its rename and the extraction that reads it.
std::unique_ptr<CacheLock> make_rootfs_tar(BuildContext& ctx,
                                           const std::vector<std::string>& packages,
                                           const fs::path& tar) {
  const Recipe& r = ctx.recipe;
  fs::path debs = ctx.options.cache_dir / "debs" / (r.suite + "-" + debian_arch(r.arch));
  // apt reads every cached .deb: no eviction removes one meanwhile.
  auto debs_lock = lock_shared_dir(debs);
  std::string q = shell_quote(debs.string());
  fs::path partial = tar;
  partial += ".partial-" + std::to_string(getpid());
  std::vector<std::string> argv = {
      "mmdebstrap",
      "--variant=extract",
      std::string("--mode=") + (geteuid() == 0 ? "root" : "unshare"),
      std::string("--arch=") + debian_arch(r.arch),
      "--components=" + join(r.components, ","),
      "--include=" + join(packages, ","),
      "--format=tar",
      "--aptopt=Acquire::Languages \"none\"",
      "--skip=download/empty",
      // Feed every cached .deb to apt so only new packages are fetched.
      "--setup-hook=mkdir -p \"$1/var/cache/apt/archives\" && "
      "find " +
          q + " -maxdepth 1 -name '*.deb' -exec cp -t \"$1/var/cache/apt/archives/\" {} +",
      // Keep what was fetched; record what apt resolved (and mmdebstrap unpacked: the .debs
      // it hands this hook in MMDEBSTRAP_ESSENTIAL, not every .deb in the archive directory,
      // which also holds cached ones apt passed over) as the tree's dpkg status database.
      "--extract-hook=" + std::string(kWriteStatusHook) +
          " && cp -n \"$1\"/var/cache/apt/archives/*.deb " + q + "/",
      r.suite,
      partial.string(),
      r.mirror,
  };
  // Extra sources (security, updates) in apt's one-line style, same components.
  for (const auto& src : apt_sources(r)) {
    if (src.uri == r.mirror && src.suite == r.suite) continue;
    argv.push_back("deb " + src.uri + " " + src.suite + " " + join(r.components, " "));
  }
  RunOptions opts;
  opts.env = ctx.tool_env();
  opts.echo_stderr = ctx.options.verbose;
  try {
    run(argv, opts);
  } catch (...) {
    std::error_code ec;
    fs::remove(partial, ec);
    throw;
  }
  auto lock = lock_shared_if_exists(partial);
  fs::rename(partial, tar);
  return lock;
}

// The image's package list: the tree's dpkg status database, also written as
// usr/share/cairn/packages.tsv (name, version, architecture) for tools without dpkg.
std::vector<PackageInfo> read_packages(const fs::path& rootfs) {
  fs::path status = rootfs / "var/lib/dpkg/status";
  auto packages = parse_dpkg_status(read_text(status), status.string());
  if (packages.empty())
    throw std::runtime_error(status.string() + ": lists no packages (a stale rootfs cache?)");
  fs::create_directories(rootfs / "usr/share/cairn");
  std::ofstream(rootfs / "usr/share/cairn/packages.tsv", std::ios::binary)
      << packages_tsv(packages);
  return packages;
}

// Removes [kernel] omit-modules from lib/modules/<v>/ together with every module that needs a
// removed one (module_prune.h: a module left in the image must load), then regenerates the
// depmod files. Returns the modules removed as dependents ("path\tneeded path" lines).
std::string omit_modules(BuildContext& ctx, const fs::path& kdir) {
  // Maintainer scripts never ran, so there is no modules.dep yet: make the full tree's first,
  // to know what every module needs before anything is removed.
  run({"depmod", "-b", ctx.rootfs.string(), ctx.kernel_version});
  if (ctx.recipe.omit_modules.empty()) return "";
  fs::path dep_file = kdir / "modules.dep";
  ModulePrune plan = plan_module_prune(read_modules_dep(read_text(dep_file), dep_file.string()),
                                       ctx.recipe.omit_modules);
  // A module stage 1 loads must not be among them: say which omit-modules entry took it.
  for (const auto& wanted : ctx.recipe.boot_modules) {
    for (const auto& path : plan.all()) {
      if (module_name(path) != module_name(wanted)) continue;
      auto dep = plan.dependents.find(path);
      throw std::runtime_error(
          "[kernel] modules names '" + wanted + "', but [kernel] omit-modules removes " + path +
          (dep == plan.dependents.end() ? "" : " (it needs " + dep->second + ", removed)"));
    }
  }
  for (const auto& dir : ctx.recipe.omit_modules) {
    std::error_code ec;
    // A typo (or a kernel that moved a driver) would silently keep what the recipe meant to
    // leave out: say so.
    if (fs::remove_all(kdir / dir, ec) == 0)
      std::cerr << "cairn-image: warning: [kernel] omit-modules \"" << dir
                << "\" matches nothing under lib/modules/" << ctx.kernel_version << "\n";
  }
  std::string dependents;
  for (const auto& [path, needs] : plan.dependents) {
    fs::remove(kdir / path);
    dependents += path + "\t" + needs + "\n";
  }
  run({"depmod", "-b", ctx.rootfs.string(), ctx.kernel_version});
  return dependents;
}

bool is_gzip(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return magic[0] == 0x1f && magic[1] == 0x8b;
}

// Moves the kernel out of the tree (it lives on the boot partition) and drops what the image
// never needs under lib/modules (the recipe's omit-modules), then regenerates modules.dep.
// Returns omit_modules()'s list of modules removed as dependents.
std::string take_kernel(BuildContext& ctx) {
  fs::path modules = ctx.rootfs / "lib/modules";
  if (fs::is_symlink(ctx.rootfs / "lib")) modules = ctx.rootfs / "usr/lib/modules";
  std::vector<std::string> versions;
  if (fs::is_directory(modules))
    for (const auto& e : fs::directory_iterator(modules))
      if (e.is_directory()) versions.push_back(e.path().filename().string());
  if (versions.size() != 1)
    throw std::runtime_error("expected exactly one kernel under lib/modules from package " +
                             ctx.recipe.kernel_package + ", found " +
                             std::to_string(versions.size()));
  ctx.kernel_version = versions[0];
  fs::path vmlinuz = ctx.rootfs / "boot" / ("vmlinuz-" + ctx.kernel_version);
  if (!fs::is_regular_file(vmlinuz))
    throw std::runtime_error("kernel package " + ctx.recipe.kernel_package + " has no " +
                             "/boot/vmlinuz-" + ctx.kernel_version);
  ctx.kernel_image = ctx.work / "vmlinuz";
  if (is_gzip(vmlinuz)) {
    // arm64 Debian kernels are gzip'd Image files; firmware (systemd-boot, the Pi) wants the
    // uncompressed EFI-stub Image.
    RunOptions o;
    o.stdout_file = ctx.kernel_image;
    run({"gzip", "-dc", vmlinuz.string()}, o);
  } else {
    fs::copy_file(vmlinuz, ctx.kernel_image, fs::copy_options::overwrite_existing);
  }
  // dtbs (arm64 kernels ship them under usr/lib/linux-image-<v>/) stay for the boot stage.
  for (const auto& e : fs::directory_iterator(ctx.rootfs / "boot")) fs::remove_all(e.path());

  return omit_modules(ctx, modules / ctx.kernel_version);
}

void extract(const fs::path& tar, const fs::path& dir) {
  fs::create_directories(dir);
  run({"tar", "--extract", "--file", tar.string(), "--directory", dir.string(), "--numeric-owner",
       "--preserve-permissions", "--xattrs", "--xattrs-include=*"});
}

// Publishes `dir` as `tar` in the cache (atomically: concurrent builds only ever see whole
// files).
void store(const fs::path& dir, const fs::path& tar) {
  fs::path partial = tar;
  partial += ".partial-" + std::to_string(getpid());
  try {
    run({"tar", "--create", "--file", partial.string(), "--directory", dir.string(),
         "--numeric-owner", "--xattrs", "--xattrs-include=*", "--sort=name", "."});
    fs::rename(partial, tar);
  } catch (...) {
    std::error_code ec;
    fs::remove(partial, ec);
    throw;
  }
}

// Writes `tar`'s .meta (what `cairn-image cache` reads): format, kind, recipe and the .debs of
// the package set, so eviction keeps those .debs while the entry lives. Entries made before
// .meta files existed get one on their first hit (a hit proves their key, hence their format,
// is current).
void write_meta(BuildContext& ctx, const fs::path& tar, CacheKind kind) {
  fs::path meta_file = tar;
  meta_file.replace_extension(".meta");
  if (fs::exists(meta_file) || !fs::exists(tar)) return;
  CacheEntryMeta meta;
  meta.format = kRootfsFormat;
  meta.kind = kind;
  meta.recipe = ctx.recipe.name;
  meta.debs_dir = ctx.recipe.suite + "-" + debian_arch(ctx.recipe.arch);
  for (const auto& p : ctx.packages)
    meta.debs.push_back(deb_file_name(p.name, p.version, p.architecture));
  fs::path partial = meta_file;
  partial += ".partial-" + std::to_string(getpid());
  std::ofstream(partial, std::ios::binary) << format_cache_meta(meta);
  std::error_code ec;
  fs::rename(partial, meta_file, ec);
  if (ec) fs::remove(partial, ec);
}

// Removes a superseded cache file unless a concurrent build still uses it (then eviction
// takes it later: it is never hit again).
void remove_unless_in_use(const fs::path& tar) {
  auto lock = try_lock_exclusive(tar);
  if (!lock) return;
  std::error_code ec;
  fs::remove(tar, ec);
  fs::path meta = tar;
  fs::remove(meta.replace_extension(".meta"), ec);
}

}  // namespace

void stage_rootfs(BuildContext& ctx) {
  const Recipe& r = ctx.recipe;
  auto packages = package_set(r);
  std::string set_key = std::string(kRootfsFormat) + "\n" + r.suite + "\n" + r.mirror + "\n" +
                        join(r.extra_sources, ",") + "\n" + debian_arch(r.arch) + "\n" +
                        join(r.components, ",") + "\n" + join(packages, ",") + "\n" +
                        std::to_string(ctx.epoch);
  std::string prefix = r.suite + "-" + debian_arch(r.arch) + "-";
  fs::path cache = ctx.options.cache_dir / "rootfs";
  fs::create_directories(cache);
  fs::path current = cache / (prefix + sha256_hex(set_key).substr(0, 16) + ".current");
  std::string previous_index;
  if (std::ifstream in(current); in) std::getline(in, previous_index);

  // What the archive serves now. Offline, the last resolved set is used, loudly.
  std::string index_hash;
  try {
    index_hash = sha256_hex(fetch_archive_index_key(r, ctx.work / "archive-index"));
  } catch (const std::exception& e) {
    if (previous_index.empty())
      throw std::runtime_error(std::string(e.what()) +
                               " (and no package set for this recipe is cached to fall back to)");
    auto age = std::chrono::duration_cast<std::chrono::hours>(fs::file_time_type::clock::now() -
                                                              fs::last_write_time(current));
    std::cerr << "cairn-image: warning: " << e.what()
              << "\ncairn-image: warning: cannot check the archive for newer packages; building "
                 "from the package set resolved "
              << age.count()
              << " h ago (it may lack updates published since; manifest.json lists the "
                 "versions)\n";
    index_hash = previous_index;
  }
  auto base_tar_for = [&](const std::string& index) {
    return cache / (prefix + sha256_hex(set_key + "\n" + index).substr(0, 16) + ".tar");
  };
  // The tree after the kernel was taken out and modules were omitted: what a rebuild with the
  // same packages and [kernel] starts from (saves re-running depmod on every build).
  auto tree_key_for = [&](const std::string& index) {
    return sha256_hex(set_key + "\n" + index + "\n" + r.kernel_package + "\n" +
                      join(r.omit_modules, ","))
        .substr(0, 16);
  };
  fs::path base_tar = base_tar_for(index_hash);
  ctx.rootfs_cache_key = tree_key_for(index_hash);
  fs::path tree_tar = cache / (prefix + "tree-" + ctx.rootfs_cache_key + ".tar");
  fs::path stash = ctx.rootfs / ".cairn-kernel";

  // Held until the build ends: what this build uses stays in the cache.
  auto tree_lock = lock_shared_if_exists(tree_tar);
  ctx.rootfs_from_cache = tree_lock != nullptr;
  bool made_base = false;
  if (ctx.rootfs_from_cache) {
    touch_last_use(tree_tar);
    ctx.cache_locks.push_back(std::move(tree_lock));
    extract(tree_tar, ctx.rootfs);
  } else {
    auto base_lock = lock_shared_if_exists(base_tar);
    if (!base_lock) {
      base_lock = make_rootfs_tar(ctx, packages, base_tar);
      made_base = true;
    }
    touch_last_use(base_tar);
    if (base_lock) ctx.cache_locks.push_back(std::move(base_lock));
    extract(base_tar, ctx.rootfs);
    std::string dependents = take_kernel(ctx);
    fs::create_directories(stash);
    std::ofstream(stash / "omitted-dependents", std::ios::binary) << dependents;
    fs::rename(ctx.kernel_image, stash / "vmlinuz");
    std::ofstream(stash / "version") << ctx.kernel_version << "\n";
    store(ctx.rootfs, tree_tar);
    if (auto lock = lock_shared_if_exists(tree_tar)) ctx.cache_locks.push_back(std::move(lock));
  }
  if (previous_index != index_hash) {
    // The archive moved on: this set replaces the previous resolve (its trees are stale).
    std::ofstream(current) << index_hash << "\n";
    if (!previous_index.empty()) {
      remove_unless_in_use(base_tar_for(previous_index));
      remove_unless_in_use(cache / (prefix + "tree-" + tree_key_for(previous_index) + ".tar"));
    }
  }
  ctx.kernel_image = ctx.work / "vmlinuz";
  fs::rename(stash / "vmlinuz", ctx.kernel_image);
  std::ifstream version(stash / "version");
  std::getline(version, ctx.kernel_version);
  std::istringstream dependents(read_text(stash / "omitted-dependents"));
  for (std::string line; std::getline(dependents, line);) {
    size_t tab = line.find('\t');
    if (tab != std::string::npos)
      ctx.omitted_dependents.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  fs::remove_all(stash);
  if (ctx.kernel_version.empty())
    throw std::runtime_error(tree_tar.string() + ": no kernel version");
  ctx.packages = read_packages(ctx.rootfs);
  write_meta(ctx, tree_tar, CacheKind::kRootfsTree);
  if (!ctx.rootfs_from_cache) write_meta(ctx, base_tar, CacheKind::kRootfs);
  if (made_base) {
    // The .debs this set was resolved from were just used: their last use is now.
    fs::path debs = ctx.options.cache_dir / "debs" / (r.suite + "-" + debian_arch(r.arch));
    for (const auto& p : ctx.packages)
      touch_last_use(debs / deb_file_name(p.name, p.version, p.architecture));
  }
}

}  // namespace cairn::image
