// Stage "root-image": the tree as a read-only erofs (fixed timestamps and UUID, all files
// owned by root) followed, at the next 4 KiB boundary, by its dm-verity hash tree
// (veritysetup format with a salt and UUID derived from the seed). The root hash and the
// hash offset go onto the kernel command line (docs/boot-contract.md).
#include <regex>
#include <stdexcept>

#include "image/build/pipeline.h"
#include "image/util/process.h"

namespace cairn::image {
namespace fs = std::filesystem;

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
