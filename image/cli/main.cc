// cairn-image: recipes to bootable immutable images.
//   cairn-image validate RECIPE...
//   cairn-image build RECIPE [--out DIR] [--bin-dir DIR] [--cache DIR] [--formats LIST]
//                     [--work-dir DIR] [--keep-work] [--verbose]
//   cairn-image boot IMAGE [--batch --timeout S ...]     (image/boot)
//   cairn-image cache info|prune|clean [--cache DIR] ...  (cache_command.h)
// Defaults (docs/image.md): --out <build>/images/<name>, --bin-dir <build>/bin for x86_64 and
// <build>/arm64/bin for arm64 (where <build> holds this binary's bin/), --cache
// $CAIRN_IMAGE_CACHE or /var/cache/cairn-image, --work-dir $CAIRN_IMAGE_WORK_DIR, else
// /dev/shm if it is a tmpfs with 2 GiB free, else beside --out.
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/diagnostic.h"
#include "image/build/pipeline.h"
#include "image/cache/cache_limits.h"
#include "image/cli/cache_command.h"
#include "image/recipe/recipe.h"
#ifdef CAIRN_IMAGE_HAVE_BOOT
#include "image/boot/boot.h"
#endif

namespace fs = std::filesystem;
using namespace cairn::image;

namespace {

constexpr const char* kUsage =
    "usage: cairn-image validate RECIPE...\n"
    "       cairn-image build RECIPE [--out DIR] [--bin-dir DIR] [--cache DIR]\n"
    "                         [--formats raw,qcow2,sd-zst] [--work-dir DIR] [--keep-work]\n"
    "                         [--verbose]\n"
    "       cairn-image boot IMAGE [--arch A] [--batch] [--timeout S] [...]\n"
    "       cairn-image cache info|prune|clean [--cache DIR] [--max-size SIZE] [--max-age DAYS]\n"
    "                         [--dry-run]\n";

fs::path self_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

// The work directory's default parent: /dev/shm when it is a tmpfs with room for a build's
// scratch (a tree of ~10k files, the partition images: < 1 GiB; 2 GiB asked), since a cached
// rebuild is mostly writing and re-reading that tree; else "" (beside --out, on disk).
fs::path default_work_parent() {
  const char* env = std::getenv("CAIRN_IMAGE_WORK_DIR");
  if (env && *env) return env;
  struct statfs st {};
  if (statfs("/dev/shm", &st) != 0 || st.f_type != TMPFS_MAGIC) return {};
  if (access("/dev/shm", W_OK) != 0) return {};
  uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_bsize);
  return free_bytes >= (2ull << 30) ? fs::path("/dev/shm") : fs::path();
}

int validate(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  int status = 0;
  for (const auto& file : args) {
    std::vector<cairn::Diagnostic> diags;
    auto recipe = parse_recipe_file(file, diags);
    if (recipe) validate_recipe_inputs(*recipe, diags);
    if (!diags.empty()) {
      std::fputs(cairn::to_string(diags).c_str(), stderr);
      status = 1;
      continue;
    }
    std::printf("%s: ok (%s %s, %s/%s, %zu packages, %zu services)\n", file.c_str(),
                recipe->name.c_str(), recipe->version.c_str(), arch_name(recipe->arch),
                board_name(recipe->board), recipe->packages.size(), recipe->services.size());
  }
  return status;
}

int build(const std::vector<std::string>& args) {
  BuildOptions options;
  std::string recipe;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "cairn-image build: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return args[++i];
    };
    if (a == "--out") {
      options.out_dir = value();
    } else if (a == "--bin-dir") {
      options.bin_dir = value();
    } else if (a == "--cache") {
      options.cache_dir = value();
    } else if (a == "--work-dir") {
      options.work_parent = value();
      if (options.work_parent.empty()) options.work_parent = ".";
    } else if (a == "--formats") {
      std::string list = value() + ",";
      for (size_t start = 0, comma; (comma = list.find(',', start)) != std::string::npos;
           start = comma + 1) {
        std::string f = list.substr(start, comma - start);
        if (f == "raw")
          options.formats.push_back(OutputFormat::kRaw);
        else if (f == "qcow2")
          options.formats.push_back(OutputFormat::kQcow2);
        else if (f == "sd-zst")
          options.formats.push_back(OutputFormat::kSdZst);
        else {
          std::fprintf(stderr,
                       "cairn-image build: --formats: unknown format '%s' (raw, qcow2, sd-zst)\n",
                       f.c_str());
          return 2;
        }
      }
    } else if (a == "--keep-work") {
      options.keep_work = true;
    } else if (a == "--verbose" || a == "-v") {
      options.verbose = true;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "cairn-image build: unknown option %s\n%s", a.c_str(), kUsage);
      return 2;
    } else if (recipe.empty()) {
      recipe = a;
    } else {
      std::fprintf(stderr, "cairn-image build: one recipe at a time (got %s)\n", a.c_str());
      return 2;
    }
  }
  if (recipe.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  options.recipe_file = recipe;
  // Defaults need the recipe's name and arch; a recipe that does not parse gets its errors
  // from the validate stage.
  std::vector<cairn::Diagnostic> ignored;
  auto parsed = parse_recipe_file(recipe, ignored);
  fs::path build_dir = self_dir().parent_path();
  std::string name = parsed ? parsed->name : fs::path(recipe).stem().string();
  if (options.out_dir.empty()) options.out_dir = build_dir / "images" / name;
  if (options.bin_dir.empty()) {
    bool arm64 = parsed && parsed->arch == Arch::kArm64;
    options.bin_dir = arm64 ? build_dir / "arm64/bin" : self_dir();
  }
  if (options.cache_dir.empty()) options.cache_dir = default_cache_dir();
  if (options.work_parent.empty()) options.work_parent = default_work_parent();
  // The bounds the build evicts down to when it is done (checked before it starts).
  try {
    options.cache_limits = cache_limits_from_env();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-image build: %s\n", e.what());
    return 2;
  }
  return run_build(options, build_stages());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "validate") return validate(args);
  if (command == "build") return build(args);
  if (command == "cache") return cache_main(args);
  if (command == "boot") {
#ifdef CAIRN_IMAGE_HAVE_BOOT
    return boot_main(args);
#else
    std::fputs("cairn-image boot: this build has no image/boot (QEMU runner) yet\n", stderr);
    return 2;
#endif
  }
  std::fprintf(stderr, "cairn-image: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
