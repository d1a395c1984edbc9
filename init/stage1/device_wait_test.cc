#include "init/stage1/device_wait.h"

#include <gtest/gtest.h>

namespace cairn::init::stage1 {
namespace {

struct FakeWorld {
  long long now = 0;
  int scans = 0;
  int root_appears_at_scan = 3;
  bool duplicate = false;
  WaitSeam seam() {
    return {[this] {
              ++scans;
              std::vector<BlockDevice> d;
              d.push_back(
                  parse_block_uevent("vda1", "DEVTYPE=partition\nPARTN=1\nPARTNAME=cairn-boot\n"));
              if (scans >= root_appears_at_scan) {
                d.push_back(parse_block_uevent(
                    "vda2", "DEVTYPE=partition\nPARTN=2\nPARTNAME=cairn-root-a\n"));
              }
              if (duplicate) {
                d.push_back(parse_block_uevent(
                    "vdb2", "DEVTYPE=partition\nPARTN=2\nPARTNAME=cairn-root-a\n"));
              }
              return d;
            },
            [this] { return now; }, [this](int ms) { now += ms; }};
  }
};

DeviceSpec spec(const std::string& s) {
  std::string why;
  return parse_device_spec(s, &why);
}

TEST(DeviceWait, RetriesUntilDevicesAppear) {
  FakeWorld world;
  auto r = wait_for_devices({{"root", spec("PARTLABEL=cairn-root-a"), true},
                             {"boot", spec("PARTLABEL=cairn-boot"), false}},
                            5000, world.seam());
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.scans, 3);
  ASSERT_TRUE(r.found[0]);
  EXPECT_EQ(r.found[0]->name, "vda2");
  EXPECT_EQ(r.found[1]->name, "vda1");
}

TEST(DeviceWait, TimeoutNamesWhatIsMissingAndWhatWasSeen) {
  FakeWorld world;
  world.root_appears_at_scan = 1000000;
  auto r = wait_for_devices({{"root", spec("PARTLABEL=cairn-root-a"), true},
                             {"data", spec("PARTLABEL=cairn-data"), false}},
                            2000, world.seam());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("root device PARTLABEL=cairn-root-a not found after 2 s"),
            std::string::npos)
      << r.errors[0];
  EXPECT_NE(r.errors[0].find("vda1 (PARTLABEL=cairn-boot)"), std::string::npos);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_GE(world.now, 2000);
  EXPECT_LE(world.now, 2100);
}

TEST(DeviceWait, AmbiguousIsAnImmediateError) {
  FakeWorld world;
  world.root_appears_at_scan = 1;
  world.duplicate = true;
  auto r = wait_for_devices({{"root", spec("PARTLABEL=cairn-root-a"), true}}, 30000, world.seam());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("ambiguous"), std::string::npos);
  EXPECT_EQ(world.scans, 1);
}

TEST(DeviceWait, TimeoutAppendsTheExplanationOnceForRequiredDevices) {
  FakeWorld world;
  world.root_appears_at_scan = 1000000;
  WaitSeam seam = world.seam();
  int asked = 0;
  seam.explain_missing = [&asked] {
    ++asked;
    return std::string("PCI 0000:00:1f.2 SATA controller (AHCI) has no driver");
  };
  auto r = wait_for_devices({{"root", spec("PARTLABEL=cairn-root-a"), true},
                             {"data", spec("PARTLABEL=cairn-data"), true},
                             {"boot", spec("PARTLABEL=cairn-boot-x"), false}},
                            500, seam);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(asked, 1);
  EXPECT_NE(r.errors[0].find("; PCI 0000:00:1f.2 SATA controller (AHCI) has no driver"),
            std::string::npos)
      << r.errors[0];
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].find("SATA"), std::string::npos) << r.warnings[0];
}

TEST(DeviceWait, NoExplanationWhenEverythingIsFound) {
  FakeWorld world;
  WaitSeam seam = world.seam();
  int asked = 0;
  seam.explain_missing = [&asked] {
    ++asked;
    return std::string("x");
  };
  auto r = wait_for_devices({{"root", spec("PARTLABEL=cairn-root-a"), true}}, 5000, seam);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(asked, 0);
}

}  // namespace
}  // namespace cairn::init::stage1
