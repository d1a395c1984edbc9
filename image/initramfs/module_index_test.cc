#include "image/initramfs/module_index.h"

#include <algorithm>

#include <gtest/gtest.h>

#include <stdexcept>

namespace cairn::image {
namespace {

using Paths = std::vector<std::string>;

TEST(ModuleName, StripsSuffixAndFoldsDashes) {
  EXPECT_EQ(module_name("kernel/drivers/md/dm-verity.ko"), "dm_verity");
  EXPECT_EQ(module_name("kernel/fs/ext4/ext4.ko.xz"), "ext4");
  EXPECT_EQ(module_name("a/b/crc32c-intel.ko.zst"), "crc32c_intel");
  EXPECT_EQ(module_name("dm-mod"), "dm_mod");
}

// The shape of Debian 6.1's depmod output: transitive dependency lists.
constexpr const char* kDep =
    "kernel/drivers/md/dm-verity.ko: kernel/lib/reed_solomon/reed_solomon.ko "
    "kernel/drivers/md/dm-mod.ko kernel/drivers/md/dm-bufio.ko\n"
    "kernel/drivers/md/dm-mod.ko:\n"
    "kernel/drivers/md/dm-bufio.ko:\n"
    "kernel/lib/reed_solomon/reed_solomon.ko:\n"
    "kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko kernel/fs/mbcache.ko kernel/lib/crc16.ko\n"
    "kernel/fs/jbd2/jbd2.ko:\n"
    "kernel/fs/mbcache.ko:\n"
    "kernel/lib/crc16.ko:\n"
    "kernel/crypto/crc32c_generic.ko:\n"
    "kernel/arch/x86/crypto/crc32c-intel.ko:\n"
    "kernel/drivers/virtio/virtio.ko:\n"
    "kernel/drivers/virtio/virtio_ring.ko:\n"
    "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko "
    "kernel/drivers/virtio/virtio.ko\n";

size_t index_of(const Paths& paths, const std::string& p) {
  for (size_t i = 0; i < paths.size(); ++i) {
    if (paths[i] == p) return i;
  }
  ADD_FAILURE() << p << " missing";
  return paths.size();
}

TEST(ModuleIndex, DependenciesComeFirstAndOnce) {
  ModuleIndex index;
  index.add_modules_dep(kDep, "modules.dep");
  auto r = index.resolve({"dm-verity", "virtio_blk", "dm_mod"});
  EXPECT_EQ(r.paths,
            (Paths{"kernel/drivers/md/dm-bufio.ko", "kernel/drivers/md/dm-mod.ko",
                   "kernel/lib/reed_solomon/reed_solomon.ko", "kernel/drivers/md/dm-verity.ko",
                   "kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko",
                   "kernel/drivers/block/virtio_blk.ko"}));
  EXPECT_TRUE(r.builtin.empty());
  // What each needs first, for stage 1's side-by-side loading: modules.dep's (transitive) list.
  ASSERT_EQ(r.needs.size(), r.paths.size());
  EXPECT_TRUE(r.needs[0].empty());
  EXPECT_EQ(r.needs[3], (Paths{"kernel/drivers/md/dm-bufio.ko", "kernel/drivers/md/dm-mod.ko",
                               "kernel/lib/reed_solomon/reed_solomon.ko"}));
  EXPECT_TRUE(r.needs[4].empty());
  EXPECT_EQ(r.needs[6],
            (Paths{"kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko"}));
  // Every need is listed before the module that needs it.
  for (size_t i = 0; i < r.paths.size(); ++i) {
    for (const auto& n : r.needs[i]) EXPECT_LT(index_of(r.paths, n), i) << r.paths[i];
  }
}

TEST(ModuleIndex, SoftdepThroughAliasesLoadsBefore) {
  ModuleIndex index;
  index.add_modules_dep(kDep, "modules.dep");
  index.add_modules_softdep("# comment\nsoftdep ext4 pre: crypto-crc32c\n", "modules.softdep");
  index.add_modules_alias(
      "alias crypto-crc32c crc32c_generic\nalias crypto-crc32c crc32c_intel\n"
      "alias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_blk\n"
      "alias of:N*T*Cfsl,imx21-uart crc16\n",
      "modules.alias");
  auto r = index.resolve({"ext4"});
  ASSERT_EQ(r.paths.size(), 6u);
  EXPECT_EQ(r.paths.back(), "kernel/fs/ext4/ext4.ko");
  EXPECT_LT(index_of(r.paths, "kernel/crypto/crc32c_generic.ko"), 5u);
  EXPECT_LT(index_of(r.paths, "kernel/arch/x86/crypto/crc32c-intel.ko"), 5u);
  // ext4 needs its softdep's modules as well as its hard dependencies.
  ASSERT_EQ(r.needs.size(), 6u);
  EXPECT_NE(std::find(r.needs[5].begin(), r.needs[5].end(), "kernel/crypto/crc32c_generic.ko"),
            r.needs[5].end());
  EXPECT_NE(
      std::find(r.needs[5].begin(), r.needs[5].end(), "kernel/arch/x86/crypto/crc32c-intel.ko"),
      r.needs[5].end());
}

TEST(ModuleIndex, SoftdepWithoutPrePostCountsAsPre) {
  ModuleIndex index;
  index.add_modules_dep(kDep, "modules.dep");
  index.add_modules_softdep("softdep virtio_blk crc16\n", "modules.softdep");  // as cifs has
  auto r = index.resolve({"virtio_blk"});
  EXPECT_EQ(r.paths.front(), "kernel/lib/crc16.ko");
}

TEST(ModuleIndex, SoftdepPostLoadsAfter) {
  ModuleIndex index;
  index.add_modules_dep(kDep, "modules.dep");
  index.add_modules_softdep("softdep virtio_blk post: crc16\n", "modules.softdep");
  auto r = index.resolve({"virtio_blk"});
  EXPECT_EQ(r.paths.back(), "kernel/lib/crc16.ko");
  EXPECT_EQ(index_of(r.paths, "kernel/drivers/block/virtio_blk.ko"), 2u);
  // A post: module needs the module that asked for it.
  EXPECT_EQ(r.needs.back(), (Paths{"kernel/drivers/block/virtio_blk.ko"}));
}

TEST(ModuleIndex, BuiltinIsReportedNotLoaded) {
  ModuleIndex index;
  index.add_modules_dep(kDep, "modules.dep");
  index.add_modules_builtin("kernel/fs/erofs/erofs.ko\n", "modules.builtin");
  auto r = index.resolve({"erofs", "crc16"});
  EXPECT_EQ(r.builtin, (Paths{"erofs"}));
  EXPECT_EQ(r.paths, (Paths{"kernel/lib/crc16.ko"}));
}

TEST(ModuleIndex, UnknownModuleIsAClearError) {
  ModuleIndex index;
  index.add_modules_dep(kDep, "modules.dep");
  try {
    index.resolve({"nosuchmod"});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'nosuchmod'"), std::string::npos) << e.what();
  }
}

TEST(ModuleIndex, MalformedLinesNameFileAndLine) {
  ModuleIndex index;
  try {
    index.add_modules_dep("kernel/a.ko:\nno colon here\n", "/x/modules.dep");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/x/modules.dep:2: ", 0), 0u) << e.what();
  }
  EXPECT_THROW(index.add_modules_dep("/abs/a.ko:\n", "f"), std::runtime_error);
  EXPECT_THROW(index.add_modules_dep("kernel/../a.ko:\n", "f"), std::runtime_error);
  EXPECT_THROW(index.add_modules_dep("a.ko: notamodule\n", "f"), std::runtime_error);
  EXPECT_THROW(index.add_modules_softdep("softdep\n", "f"), std::runtime_error);
  EXPECT_THROW(index.add_modules_softdep("nosoftdep a pre: b\n", "f"), std::runtime_error);
  EXPECT_THROW(index.add_modules_alias("alias x\n", "f"), std::runtime_error);
}

TEST(ModuleIndex, DependencyOnUnlistedModuleIsAnError) {
  ModuleIndex index;
  index.add_modules_dep("kernel/a.ko: kernel/missing.ko\n", "modules.dep");
  EXPECT_THROW(index.resolve({"a"}), std::runtime_error);
}

TEST(ModuleIndex, ModinfoPathGivesTheSameOrder) {
  ModuleIndex index;
  index.add_module_info("kernel/drivers/md/dm-verity.ko",
                        {{"name", "dm_verity"}, {"depends", "reed_solomon,dm-mod,dm-bufio"}});
  index.add_module_info("kernel/drivers/md/dm-mod.ko", {{"name", "dm_mod"}, {"depends", ""}});
  index.add_module_info("kernel/drivers/md/dm-bufio.ko", {{"depends", ""}});
  index.add_module_info("kernel/lib/reed_solomon/reed_solomon.ko", {{"depends", ""}});
  index.add_module_info("kernel/fs/ext4/ext4.ko",
                        {{"softdep", "pre: crypto-crc32c"}, {"depends", "crc16"}});
  index.add_module_info("kernel/lib/crc16.ko", {});
  index.add_module_info("kernel/crypto/crc32c_generic.ko",
                        {{"alias", "crypto-crc32c"}, {"alias", "crc32c"}});
  auto r = index.resolve({"dm-verity", "ext4"});
  EXPECT_EQ(r.paths, (Paths{"kernel/drivers/md/dm-bufio.ko", "kernel/drivers/md/dm-mod.ko",
                            "kernel/lib/reed_solomon/reed_solomon.ko",
                            "kernel/drivers/md/dm-verity.ko", "kernel/lib/crc16.ko",
                            "kernel/crypto/crc32c_generic.ko", "kernel/fs/ext4/ext4.ko"}));
}

TEST(ModuleIndex, CycleIsDetected) {
  ModuleIndex index;
  index.add_module_info("kernel/a.ko", {{"depends", "b"}});
  index.add_module_info("kernel/b.ko", {{"depends", "a"}});
  try {
    index.resolve({"a"});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos);
  }
}

}  // namespace
}  // namespace cairn::image
