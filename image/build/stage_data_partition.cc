// Stage "data-partition": an empty ext4 labelled cairn-data (stage 1 creates its layout on
// first boot and grows it to the disk's end), made by mkfs.ext4 -d from a directory with a
// seeded UUID and hash seed and E2FSPROGS_FAKE_TIME, so it is bit-identical per seed.
#include "image/build/pipeline.h"
#include "image/util/process.h"

namespace cairn::image {
namespace fs = std::filesystem;

void stage_data_partition(BuildContext& ctx) {
  fs::path dir = ctx.work / "data";
  fs::create_directories(dir);
  normalize_times(dir, ctx.epoch);
  ctx.data_image = ctx.work / "data.img";
  ctx.data_uuid = seeded_uuid(ctx.seed, "data-fs");
  fs::remove(ctx.data_image);
  RunOptions opts;
  opts.env = ctx.tool_env();
  uint64_t size = ctx.layout.by_label("cairn-data").size;
  run({"mkfs.ext4", "-q", "-F", "-b", "4096", "-L", "cairn-data", "-U", ctx.data_uuid, "-E",
       "hash_seed=" + seeded_uuid(ctx.seed, "data-hash-seed") +
           ",root_owner=0:0,nodiscard,lazy_itable_init=0",
       "-d", dir.string(), ctx.data_image.string(), std::to_string(size / 1024) + "k"},
      opts);
}

}  // namespace cairn::image
