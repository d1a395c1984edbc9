#include "init/stage1/boot_plan.h"

#include <gtest/gtest.h>

namespace cairn::init::stage1 {
namespace {

TEST(BootPlan, FullCommandLine) {
  auto r = plan_from_cmdline(
      "BOOT_IMAGE=/vmlinuz console=ttyS0 quiet cairn.root=PARTLABEL=cairn-root-a "
      "cairn.verity.roothash=" +
      std::string(64, 'A') +
      " cairn.verity.hashoffset=104857600 cairn.data=PARTUUID=0A1B2C3D-0000-4000-8000-00000000AB12 "
      "cairn.boot=PARTLABEL=cairn-boot cairn.timeout=12 cairn.emergency=reboot cairn.slot=b "
      "cairn.crash=reboot\n");
  ASSERT_TRUE(r.ok()) << r.errors.front();
  const BootPlan& p = r.plan;
  EXPECT_EQ(p.root.kind, DeviceSpec::Kind::kPartLabel);
  EXPECT_EQ(p.root.value, "cairn-root-a");
  EXPECT_EQ(p.roothash, std::string(64, 'a'));
  EXPECT_EQ(p.hash_offset, 104857600u);
  EXPECT_EQ(p.data.kind, DeviceSpec::Kind::kPartUuid);
  EXPECT_EQ(p.data.value, "0a1b2c3d-0000-4000-8000-00000000ab12");
  EXPECT_EQ(p.boot.str(), "PARTLABEL=cairn-boot");
  EXPECT_EQ(p.timeout_seconds, 12);
  EXPECT_EQ(p.emergency, Emergency::kReboot);
  EXPECT_EQ(p.slot, "b");
  EXPECT_EQ(p.init, "/usr/sbin/cairn-init");
  EXPECT_TRUE(p.grow_data);
}

TEST(BootPlan, DefaultsAndMinimal) {
  auto r = plan_from_cmdline("cairn.root=/dev/vda2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.plan.root.kind, DeviceSpec::Kind::kPath);
  EXPECT_TRUE(r.plan.data.empty());
  EXPECT_TRUE(r.plan.roothash.empty());
  EXPECT_EQ(r.plan.timeout_seconds, 30);
  EXPECT_EQ(r.plan.emergency, Emergency::kHalt);
  EXPECT_EQ(r.plan.rootfstype, "erofs");
}

TEST(BootPlan, MbrPartuuidAndQuotes) {
  auto r = plan_from_cmdline(
      "\"cairn.root=PARTUUID=1234ABCD-02\" cairn.data.grow=0 cairn.init=\"/sbin/x\" "
      "cairn.modules.threads=2");
  ASSERT_TRUE(r.ok()) << r.errors.front();
  EXPECT_EQ(r.plan.root.value, "1234abcd-02");
  EXPECT_FALSE(r.plan.grow_data);
  EXPECT_EQ(r.plan.module_threads, 2);
  EXPECT_EQ(plan_from_cmdline("cairn.root=PARTLABEL=r").plan.module_threads, 1);
  EXPECT_EQ(r.plan.init, "/sbin/x");
}

TEST(BootPlan, EveryBadValueIsReportedWithItsKey) {
  auto r = plan_from_cmdline(
      "cairn.root=LABEL=x cairn.data=PARTUUID=nothex cairn.verity.roothash=xyz "
      "cairn.timeout=0 cairn.emergency=panic cairn.slot=c cairn.rootfstype=ext4 cairn.init=rel "
      "cairn.data.grow=yes cairn.verity.hashoffset=100 cairn.modules.threads=0");
  ASSERT_EQ(r.errors.size(), 11u);
  EXPECT_EQ(r.errors[0].rfind("cairn.root=LABEL=x: ", 0), 0u) << r.errors[0];
  EXPECT_EQ(r.errors[4].rfind("cairn.emergency=panic: ", 0), 0u) << r.errors[4];
  // Even a broken command line keeps a valid emergency choice when one was given.
  auto reboot = plan_from_cmdline("cairn.emergency=reboot cairn.root=bad");
  EXPECT_FALSE(reboot.ok());
  EXPECT_EQ(reboot.plan.emergency, Emergency::kReboot);
}

TEST(BootPlan, MissingRootAndOffset) {
  auto none = plan_from_cmdline("console=ttyS0");
  ASSERT_EQ(none.errors.size(), 1u);
  EXPECT_NE(none.errors[0].find("cairn.root"), std::string::npos);
  auto r =
      plan_from_cmdline("cairn.root=PARTLABEL=r cairn.verity.roothash=" + std::string(64, 'f'));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("hashoffset"), std::string::npos);
}

TEST(BootPlan, SplitLikeTheKernel) {
  EXPECT_EQ(split_cmdline("  a=1 \"b=two words\"  c=\"x y\"\n"),
            (std::vector<std::string>{"a=1", "b=two words", "c=x y"}));
  EXPECT_EQ(split_cmdline("\"unterminated x"), (std::vector<std::string>{"unterminated x"}));
  EXPECT_TRUE(split_cmdline("").empty());
}

TEST(DeviceSpec, Parse) {
  std::string why;
  EXPECT_EQ(parse_device_spec("PARTLABEL=", &why).kind, DeviceSpec::Kind::kNone);
  EXPECT_EQ(parse_device_spec("PARTLABEL=" + std::string(37, 'x'), &why).kind,
            DeviceSpec::Kind::kNone);
  EXPECT_EQ(parse_device_spec("/dev/../etc", &why).kind, DeviceSpec::Kind::kNone);
  EXPECT_EQ(parse_device_spec("PARTUUID=12345678-1", &why).kind, DeviceSpec::Kind::kNone);
  EXPECT_EQ(parse_device_spec("PARTUUID=12345678-01", &why).kind, DeviceSpec::Kind::kPartUuid);
  EXPECT_EQ(parse_device_spec("/dev/mmcblk0p2", &why).kind, DeviceSpec::Kind::kPath);
}

}  // namespace
}  // namespace cairn::init::stage1
