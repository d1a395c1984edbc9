#include "init/stage1/storage_hint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cairn::init::stage1 {
namespace {

namespace fs = std::filesystem;

std::string modules_of(unsigned cls, unsigned vendor, unsigned device, std::string* what) {
  std::string out;
  for (const auto& m : pci_storage_modules(cls, vendor, device, what)) out += m + " ";
  return out;
}

TEST(StorageHint, PciClassesMapToTheirDrivers) {
  std::string what;
  EXPECT_EQ(modules_of(0x010601, 0x8086, 0x2922, &what), "ahci sd_mod ");
  EXPECT_EQ(what, "SATA controller (AHCI)");
  EXPECT_EQ(modules_of(0x010802, 0x1b36, 0x0010, &what), "nvme ");
  EXPECT_EQ(what, "NVMe controller");
  EXPECT_EQ(modules_of(0x010000, 0x1af4, 0x1004, &what), "virtio_pci virtio_scsi sd_mod ");
  EXPECT_EQ(modules_of(0x010000, 0x1af4, 0x1001, &what), "virtio_pci virtio_blk ");
  EXPECT_EQ(modules_of(0x018000, 0x1af4, 0x1042, &what), "virtio_pci virtio_blk ");
  EXPECT_EQ(modules_of(0x010180, 0x8086, 0x7010, &what), "ata_piix sd_mod ");
  EXPECT_EQ(modules_of(0x010180, 0x1106, 0x0571, &what), "ata_generic sd_mod ");
  EXPECT_EQ(modules_of(0x080501, 0x1b36, 0x0007, &what), "sdhci_pci mmc_block ");
  EXPECT_EQ(modules_of(0x0c0330, 0x1b36, 0x000d, &what), "xhci_pci usb_storage uas sd_mod ");
  // Storage without a known generic driver is still reported, with no module named.
  EXPECT_EQ(modules_of(0x010700, 0x1000, 0x0097, &what), "");
  EXPECT_EQ(what, "SAS controller");
  // Not storage: nothing.
  EXPECT_EQ(modules_of(0x020000, 0x8086, 0x10d3, &what), "");
  EXPECT_EQ(what, "");
  EXPECT_EQ(modules_of(0x030000, 0x1234, 0x1111, &what), "");
  EXPECT_EQ(what, "");
}

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/storage_hint_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path add(const std::string& bus, const std::string& name,
               const std::vector<std::pair<std::string, std::string>>& attrs, bool driver) {
    fs::path dir = root_ / "bus" / bus / "devices" / name;
    fs::create_directories(dir);
    for (const auto& [k, v] : attrs) std::ofstream(dir / k) << v << "\n";
    if (driver) fs::create_directory_symlink(root_ / "bus" / bus / "drivers" / "x", dir / "driver");
    return dir;
  }

  fs::path root_;
};

TEST_F(FakeSysfs, FindsOnlyUnclaimedStorage) {
  add("pci", "0000:00:1f.2", {{"class", "0x010601"}, {"vendor", "0x8086"}, {"device", "0x2922"}},
      false);
  add("pci", "0000:00:02.0", {{"class", "0x010000"}, {"vendor", "0x1af4"}, {"device", "0x1001"}},
      true);  // claimed by virtio-pci
  add("pci", "0000:00:03.0", {{"class", "0x020000"}, {"vendor", "0x8086"}, {"device", "0x10d3"}},
      false);                                                 // a NIC without driver: not storage
  add("pci", "0000:00:04.0", {{"class", "garbage"}}, false);  // unreadable: skipped
  add("virtio", "virtio1", {{"device", "0x0002"}}, false);
  add("virtio", "virtio2", {{"device", "0x0001"}}, false);  // a NIC
  add("scsi", "host0", {}, false);
  add("scsi", "0:0:0:0", {{"type", "0"}}, false);
  add("scsi", "0:0:1:0", {{"type", "5"}}, false);  // a CD-ROM
  add("mmc", "mmc0:0001", {}, true);

  auto found = find_unclaimed_storage(root_.string());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].where, "PCI 0000:00:1f.2");
  EXPECT_EQ(found[0].id, "8086:2922");
  EXPECT_EQ(found[1].where, "virtio1");
  EXPECT_EQ(found[2].where, "SCSI 0:0:0:0");
  EXPECT_EQ(describe_unclaimed_storage(found),
            "PCI 0000:00:1f.2 SATA controller (AHCI) [8086:2922] has no driver: add \"ahci\", "
            "\"sd_mod\" to the recipe's [kernel] modules; virtio1 virtio block device has no "
            "driver: add \"virtio_blk\" to the recipe's [kernel] modules; SCSI 0:0:0:0 disk has "
            "no driver: add \"sd_mod\" to the recipe's [kernel] modules");
}

TEST_F(FakeSysfs, MissingSysfsFindsNothing) {
  EXPECT_TRUE(find_unclaimed_storage((root_ / "absent").string()).empty());
  EXPECT_EQ(describe_unclaimed_storage({}), "");
}

TEST(StorageHint, UnknownModulesStillNameTheDevice) {
  EXPECT_EQ(describe_unclaimed_storage({{"PCI 0000:01:00.0", "SAS controller", "1000:0097", {}}}),
            "PCI 0000:01:00.0 SAS controller [1000:0097] has no driver: add its driver module to "
            "the recipe's [kernel] modules");
}

}  // namespace
}  // namespace cairn::init::stage1
