// Stage "install": cairn's own binaries for the target arch, the recipe's services, overlays,
// pinned artifacts and node defaults go into the tree; docs, man pages, locales and package
// caches come out; every timestamp is set to SOURCE_DATE_EPOCH.
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/toml_reader.h"
#include "image/build/pipeline.h"
#include "image/util/process.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

struct Binary {
  const char* name;
  const char* destination;
  bool required;
};
constexpr Binary kBinaries[] = {
    {"cairn-init", "/usr/sbin/cairn-init", true},
    {"cairnctl", "/usr/bin/cairnctl", false},
    {"cairn-datastore", "/usr/bin/cairn-datastore", false},
};

// Directories and patterns an appliance never reads.
constexpr const char* kDefaultPrune[] = {
    "/usr/share/doc/*",
    "/usr/share/man/*",
    "/usr/share/info/*",
    "/usr/share/locale/*",
    "/usr/share/lintian",
    "/usr/share/linda",
    "/usr/share/bug",
    "/usr/share/menu",
    "/var/cache/apt/*",
    "/var/cache/debconf/*",
    "/var/lib/apt/lists/*",
    "/var/log/*",
    "/etc/apt/sources.list.d/*",
    "/usr/share/bash-completion",
    "/usr/share/common-licenses",
};

// ELF e_machine of a file, or -1 if it is not ELF.
int elf_machine(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char h[20] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  if (in.gcount() < 20 || std::memcmp(h,
                                      "\x7f"
                                      "ELF",
                                      4) != 0)
    return -1;
  return h[18] | (h[19] << 8);  // little-endian targets only (x86_64, aarch64)
}

fs::path in_root(const BuildContext& ctx, const std::string& image_path) {
  return ctx.rootfs / fs::path(image_path).relative_path();
}

void install_file(const fs::path& from, const fs::path& to, fs::perms mode) {
  fs::create_directories(to.parent_path());
  std::error_code ec;
  fs::remove(to, ec);
  fs::copy_file(from, to);
  fs::permissions(to, mode);
}

void install_binaries(BuildContext& ctx) {
  int want = ctx.recipe.arch == Arch::kX86_64 ? 62 : 183;
  for (const auto& b : kBinaries) {
    fs::path src = ctx.options.bin_dir / b.name;
    if (!fs::is_regular_file(src)) {
      if (b.required)
        throw std::runtime_error(src.string() + ": missing (build it for " +
                                 arch_name(ctx.recipe.arch) + " first, or pass --bin-dir)");
      continue;
    }
    int machine = elf_machine(src);
    if (machine != want)
      throw std::runtime_error(src.string() + ": not an " + arch_name(ctx.recipe.arch) +
                               " ELF binary (e_machine " + std::to_string(machine) + ")");
    fs::path dest = in_root(ctx, b.destination);
    install_file(src, dest, fs::perms(0755));
    // Debug info stays in the build tree; the image gets the stripped copy (deterministic:
    // strip only removes sections).
    run({ctx.recipe.arch == Arch::kX86_64 ? "strip" : "aarch64-linux-gnu-strip", "--strip-debug",
         "--remove-section=.comment", dest.string()});
    ctx.installed_binaries.push_back(b.destination);
  }
}

// Shared libraries `binary` (an ELF in the tree) needs that the tree lacks. cairn's binaries
// are built on the host, so a library the recipe's packages do not bring is the usual
// mistake; the error names the host package that has it (dpkg -S) as the likely fix.
std::vector<std::string> missing_libraries(const BuildContext& ctx, const fs::path& binary) {
  std::string dynamic;
  try {
    dynamic = run({"readelf", "--dynamic", "--wide", binary.string()});
  } catch (const std::exception&) {
    return {};  // not dynamic, or no readelf: nothing to check
  }
  std::string triplet = ctx.recipe.arch == Arch::kX86_64 ? "x86_64-linux-gnu" : "aarch64-linux-gnu";
  std::vector<std::string> missing;
  size_t pos = 0;
  while ((pos = dynamic.find("Shared library: [", pos)) != std::string::npos) {
    pos += 17;
    size_t end = dynamic.find(']', pos);
    if (end == std::string::npos) break;
    std::string lib = dynamic.substr(pos, end - pos);
    bool found = false;
    for (const char* dir : {"lib", "usr/lib", "lib64"}) {
      for (const std::string& sub : {std::string(), triplet}) {
        std::error_code ec;
        fs::path candidate = ctx.rootfs / dir / sub / lib;
        if (fs::exists(candidate, ec) || fs::is_symlink(candidate, ec)) found = true;
      }
    }
    if (!found) missing.push_back(lib);
  }
  return missing;
}

std::string host_package_of(const std::string& lib, const std::string& triplet) {
  try {
    std::string out = run({"dpkg", "-S", "*/" + triplet + "/" + lib});
    return out.substr(0, out.find(':'));
  } catch (const std::exception&) {
  }
  return "";
}

void check_libraries(const BuildContext& ctx) {
  std::string problems;
  for (const auto& binary : ctx.installed_binaries) {
    for (const auto& lib : missing_libraries(ctx, in_root(ctx, binary))) {
      std::string package = host_package_of(
          lib, ctx.recipe.arch == Arch::kX86_64 ? "x86_64-linux-gnu" : "aarch64-linux-gnu");
      problems += "\n  " + binary + " needs " + lib +
                  (package.empty() ? "" : " (Debian package " + package + ")");
    }
  }
  if (!problems.empty())
    throw std::runtime_error(
        "shared libraries missing from the image; add their packages to "
        "[packages] list:" +
        problems);
}

// The first element of a service file's `exec`, for the "is it in the image" check.
std::string service_exec(const fs::path& file) {
  // Through common/toml_reader.h, the project's one entry to toml++ (it carries the fix for
  // toml++ 3.3's undefined behaviour on some non-ASCII input and the size cap).
  std::vector<Diagnostic> diags;
  auto table = parse_toml_file(file.string(), diags);
  if (!table) throw std::runtime_error(to_string(diags));
  if (auto* exec = (*table)["exec"].as_array())
    if (!exec->empty())
      if (auto* first = exec->get(0)->as_string()) return first->get();
  return "";
}

void install_services(BuildContext& ctx) {
  fs::path dir = ctx.rootfs / "etc/cairn/services";
  fs::create_directories(dir);
  for (const auto& name : ctx.recipe.services) {
    fs::path file = find_service_file(ctx.recipe, name);
    if (file.empty()) throw std::runtime_error("service " + name + ": no service file");
    install_file(file, dir / (name + ".toml"), fs::perms(0644));
    ctx.installed_services.push_back(name);
  }
}

void apply_overlays(BuildContext& ctx) {
  for (const auto& overlay : ctx.recipe.overlays)
    run({"cp", "-a", "--no-preserve=ownership", "--", (overlay / ".").string(),
         (ctx.rootfs / "").string()});
}

void install_artifacts(BuildContext& ctx) {
  for (const auto& a : ctx.recipe.artifacts)
    install_file(a.source, in_root(ctx, a.destination), fs::perms(a.mode));
}

void prune(BuildContext& ctx) {
  std::vector<std::string> patterns(std::begin(kDefaultPrune), std::end(kDefaultPrune));
  patterns.insert(patterns.end(), ctx.recipe.prune.begin(), ctx.recipe.prune.end());
  prune_paths(ctx.rootfs, patterns);
}

// The empty mount points stage 1 and stage 2 mount over (docs/boot-contract.md), and the
// image's identity.
void finish_tree(BuildContext& ctx) {
  for (const char* d : {"proc", "sys", "dev", "run", "tmp", "var", "etc", "boot", "root"})
    fs::create_directories(ctx.rootfs / d);
  fs::permissions(ctx.rootfs / "tmp", fs::perms(01777));
  std::ofstream release(ctx.rootfs / "usr/share/cairn/image-release");
  release << "NAME=" << ctx.recipe.name << "\nVERSION=" << ctx.recipe.version
          << "\nARCH=" << arch_name(ctx.recipe.arch) << "\nBOARD=" << board_name(ctx.recipe.board)
          << "\nKERNEL=" << ctx.kernel_version << "\n";
  if (!ctx.recipe.node_toml.empty()) {
    std::ofstream node(ctx.rootfs / "usr/share/cairn/node.default.toml");
    node << ctx.recipe.node_toml;
  }
}

}  // namespace

void prune_paths(const fs::path& root, const std::vector<std::string>& patterns) {
  for (const auto& pattern : patterns) {
    std::string full = (root / fs::path(pattern).relative_path()).string();
    glob_t g{};
    // GLOB_PERIOD: "dir/*" also takes dot files. It also yields "dir/." and "dir/..", which
    // must never be removed: "/var/log/*" would otherwise empty all of /var.
    if (glob(full.c_str(), GLOB_NOSORT | GLOB_PERIOD, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        fs::path match(g.gl_pathv[i]);
        if (match.filename() == "." || match.filename() == "..") continue;
        std::error_code ec;
        fs::remove_all(match, ec);
      }
    }
    globfree(&g);
  }
}

// Sets every mtime/atime under `root` (symlinks themselves included) to `epoch`.
void normalize_times(const fs::path& root, int64_t epoch) {
  struct timespec times[2] = {{epoch, 0}, {epoch, 0}};
  auto touch = [&](const fs::path& p) {
    utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
  };
  touch(root);
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none);
       it != fs::recursive_directory_iterator(); ++it)
    touch(it->path());
}

static void move_boot_assets(BuildContext& ctx) {
  ctx.boot_assets = ctx.work / "boot-assets";
  fs::create_directories(ctx.boot_assets);
  const std::pair<std::string, const char*> moves[] = {
      {"usr/lib/systemd/boot/efi", "systemd-boot"},
      {"usr/lib/linux-image-" + ctx.kernel_version, "dtbs"},
      {"usr/lib/raspi-firmware", "raspi-firmware"},
  };
  for (const auto& [from, to] : moves) {
    fs::path source = ctx.rootfs / from;
    if (fs::is_directory(source)) fs::rename(source, ctx.boot_assets / to);
  }
}

void stage_install(BuildContext& ctx) {
  move_boot_assets(ctx);
  install_binaries(ctx);
  check_libraries(ctx);
  install_services(ctx);
  apply_overlays(ctx);
  install_artifacts(ctx);
  prune(ctx);
  finish_tree(ctx);
  // Stage 1 reads these ahead while it prepares /var (init/stage1/readahead.h): first
  // cairn-init, which it execs as PID 1 right after (a cold exec of it took ~0.6 s under
  // TCG, its pages faulted in through dm-verity), then the services' executables in the
  // recipe's order.
  ctx.boot_files = {kBinaries[0].destination};
  for (const auto& name : ctx.installed_services) {
    std::string exec = service_exec(ctx.rootfs / "etc/cairn/services" / (name + ".toml"));
    std::error_code ec;
    if (!exec.empty() && exec[0] == '/' && !fs::exists(in_root(ctx, exec), ec) &&
        !fs::is_symlink(in_root(ctx, exec), ec))
      throw std::runtime_error("service " + name + ": its exec " + exec +
                               " is not in the image (add its package or binary)");
    if (!exec.empty() && exec[0] == '/' &&
        std::find(ctx.boot_files.begin(), ctx.boot_files.end(), exec) == ctx.boot_files.end())
      ctx.boot_files.push_back(exec);
  }
  std::string readahead = "# cairn-init and the enabled services' executables (cairn-image)\n";
  for (const auto& file : ctx.boot_files) readahead += file + "\n";
  fs::create_directories(ctx.rootfs / "usr/share/cairn");
  std::ofstream(ctx.rootfs / "usr/share/cairn/readahead") << readahead;
  normalize_times(ctx.rootfs, ctx.epoch);
}

}  // namespace cairn::image
