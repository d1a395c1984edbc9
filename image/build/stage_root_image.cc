// Stage "root-image": the tree as a read-only erofs (fixed timestamps and UUID, all files
// owned by root) followed, at the next 4 KiB boundary, by its dm-verity hash tree
// (veritysetup format with a salt and UUID derived from the seed). The root hash and the
// hash offset go onto the kernel command line (docs/boot-contract.md).
#include <fstream>
#include <regex>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "image/build/pipeline.h"
#include "image/util/process.h"

namespace cairn::image {
namespace fs = std::filesystem;

namespace {

// A POSIX extended regex matching exactly PATH (absolute, as in the image) the way
// mkfs.erofs's --compress-hints sees it (relative to the tree, with or without a leading /).
std::string exact_path_regex(const std::string& path) {
  std::string re = "^/?";
  for (char c : path.substr(path.find_first_not_of('/'))) {
    if (std::string_view(".[]()*+?{}|^$\\").find(c) != std::string_view::npos) re += '\\';
    re += c;
  }
  return re + "$";
}

// PATH (absolute, as in the image) with every symlink inside ROOT resolved as the booted
// system would (absolute links point into ROOT): the path mkfs.erofs stores the file under,
// e.g. /sbin/agetty -> /usr/sbin/agetty in a merged-/usr tree. Unresolvable: PATH itself.
std::string real_path_in_root(const fs::path& root, const std::string& path) {
  std::vector<std::string> todo;
  for (const auto& part : fs::path(path).relative_path()) todo.insert(todo.begin(), part.string());
  fs::path real = "/";
  for (int links = 0; !todo.empty();) {
    std::string part = todo.back();
    todo.pop_back();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      real = real.parent_path();
      continue;
    }
    fs::path next = real / part;
    std::error_code ec;
    if (!fs::is_symlink(root / next.relative_path(), ec)) {
      real = next;
      continue;
    }
    if (++links > 40) return path;
    fs::path target = fs::read_symlink(root / next.relative_path(), ec);
    if (ec) return path;
    if (target.is_absolute()) real = "/";
    std::vector<std::string> parts;
    for (const auto& t : target.relative_path()) parts.push_back(t.string());
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(*it);
  }
  return real.string();
}

// root-compress-files = "boot": a --compress-hints file compressing the boot files in 64 KiB
// physical clusters (fewer blocks for dm-verity to hash when they are read at boot) and
// nothing else (pcluster size 0 = stored uncompressed).
fs::path write_boot_compress_hints(const BuildContext& ctx) {
  fs::path hints = ctx.work / "erofs-compress-hints";
  std::ofstream out(hints);
  for (const auto& file : ctx.boot_files)
    out << "65536 " << exact_path_regex(real_path_in_root(ctx.rootfs, file)) << "\n";
  out << "0 .*\n";
  out.close();
  if (!out) throw std::runtime_error("cannot write " + hints.string());
  return hints;
}

}  // namespace

void stage_root_image(BuildContext& ctx) {
  ctx.root_image = ctx.work / "root-a.img";
  ctx.erofs_uuid = seeded_uuid(ctx.seed, "erofs-root");
  ctx.verity_uuid = seeded_uuid(ctx.seed, "verity-root");
  ctx.verity_salt = seeded_hex(ctx.seed, "verity-salt", 64);
  RunOptions opts;
  opts.env = ctx.tool_env();
  std::vector<std::string> mkfs = {"mkfs.erofs", "--quiet", "-T" + std::to_string(ctx.epoch),
                                   "-U" + ctx.erofs_uuid, "--all-root"};
  if (ctx.recipe.root_compression == "lz4") mkfs.push_back("-zlz4");
  if (ctx.recipe.root_compression == "lz4hc") mkfs.push_back("-zlz4hc,12");
  if (ctx.recipe.root_compression != "none" && ctx.recipe.root_compress_files == "boot") {
    mkfs.push_back("-C65536");
    mkfs.push_back("--compress-hints=" + write_boot_compress_hints(ctx).string());
  }
  mkfs.push_back(ctx.root_image.string());
  mkfs.push_back(ctx.rootfs.string());
  run(mkfs, opts);
  ctx.erofs_size = fs::file_size(ctx.root_image);
  ctx.verity_hash_offset = (ctx.erofs_size + 4095) / 4096 * 4096;
  fs::resize_file(ctx.root_image, ctx.verity_hash_offset);
  std::string out = run({"veritysetup", "format", ctx.root_image.string(), ctx.root_image.string(),
                         "--hash-offset=" + std::to_string(ctx.verity_hash_offset),
                         "--data-blocks=" + std::to_string(ctx.verity_hash_offset / 4096),
                         "--data-block-size=4096", "--hash-block-size=4096", "--hash=sha256",
                         "--salt=" + ctx.verity_salt, "--uuid=" + ctx.verity_uuid},
                        opts);
  std::smatch m;
  static const std::regex root_hash("Root hash:\\s*([0-9a-f]{64})");
  if (!std::regex_search(out, m, root_hash))
    throw std::runtime_error("veritysetup format printed no root hash:\n" + out);
  ctx.verity_root_hash = m[1];
  uint64_t used = fs::file_size(ctx.root_image);
  uint64_t slot = ctx.layout.by_label("cairn-root-a").size;
  if (used > slot)
    throw std::runtime_error("the root filesystem with its hash tree needs " +
                             std::to_string((used + (1 << 20) - 1) >> 20) +
                             " MiB but [partitions] root is " + std::to_string(slot >> 20) +
                             " MiB: raise it in the recipe or trim [packages]");
}

}  // namespace cairn::image
