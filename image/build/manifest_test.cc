#include "image/build/manifest.h"

#include <gtest/gtest.h>

namespace cairn::image {
namespace {

TEST(Manifest, JsonStringEscapes) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

BuildContext sample() {
  BuildContext ctx;
  ctx.recipe.name = "qemu-x86_64";
  ctx.recipe.version = "1.0";
  ctx.seed = "qemu-x86_64-1.0";
  ctx.epoch = 42;
  ctx.kernel_version = "6.1.0-50-amd64";
  ctx.layout = compute_layout(TableType::kGpt, false, ctx.seed, 64 << 20, 64 << 20, 64 << 20);
  ctx.verity_root_hash = std::string(64, 'a');
  ctx.verity_hash_offset = 8192;
  ctx.packages = {{"bash", "5.2.15-2+b2", "amd64"}, {"q\"uote", "1", "all"}};
  ctx.outputs = {{"qemu-x86_64.img", 123, std::string(64, 'b')}};
  ctx.installed_services = {"getty"};
  ctx.omitted_dependents = {
      {"kernel/drivers/scsi/bnx2fc/bnx2fc.ko", "kernel/drivers/scsi/fcoe/libfcoe.ko"}};
  ctx.cmdline_a = "cairn.root=PARTLABEL=cairn-root-a console=ttyS0";
  return ctx;
}

// The manifest is JSON; toml++ cannot read JSON, so check it structurally: balanced, and every
// fact present exactly where expected.
TEST(Manifest, CarriesPackagesHashesVerityAndPartitions) {
  auto ctx = sample();
  std::string j = manifest_json(ctx);
  EXPECT_NE(j.find("\"root_hash\": \"" + std::string(64, 'a') + "\""), std::string::npos);
  EXPECT_NE(j.find("\"hash_offset\": 8192"), std::string::npos);
  EXPECT_NE(
      j.find("{\"name\": \"bash\", \"version\": \"5.2.15-2+b2\", \"architecture\": \"amd64\"}"),
      std::string::npos);
  EXPECT_NE(j.find("\"q\\\"uote\""), std::string::npos);
  EXPECT_NE(j.find("{\"name\": \"qemu-x86_64.img\", \"size\": 123, \"sha256\": \"" +
                   std::string(64, 'b') + "\"}"),
            std::string::npos);
  EXPECT_NE(j.find("\"label\": \"cairn-root-b\", \"offset\": " + std::to_string(129 << 20)),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"partuuid\": \"" + ctx.layout.partitions[3].partuuid + "\""),
            std::string::npos);
  EXPECT_NE(j.find("\"disk_id\": \"" + ctx.layout.disk_id + "\""), std::string::npos);
  EXPECT_NE(j.find("\"omitted_dependent_modules\": [\n    {\"module\": "
                   "\"kernel/drivers/scsi/bnx2fc/bnx2fc.ko\", \"needs\": "
                   "\"kernel/drivers/scsi/fcoe/libfcoe.ko\"}\n  ],"),
            std::string::npos)
      << j;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < j.size(); ++i) {
    char c = j[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ASSERT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);
  EXPECT_FALSE(in_string);
}

// A build recognises an earlier output by its manifest's start (pipeline.cc: only such an
// --out is replaced), so what manifest_json writes must be recognised, and other JSON not.
TEST(Manifest, ItsOwnStartIsRecognised) {
  std::string j = manifest_json(sample());
  EXPECT_TRUE(is_manifest_head(j));
  EXPECT_TRUE(is_manifest_head(j.substr(0, 40)));
  EXPECT_FALSE(is_manifest_head("{\"format\": \"something-else/1\"}"));
  EXPECT_FALSE(is_manifest_head(""));
}

TEST(Manifest, IsDeterministic) {
  EXPECT_EQ(manifest_json(sample()), manifest_json(sample()));
}

}  // namespace
}  // namespace cairn::image
