#include "init/stage1/block_devices.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "init/stage1/test_disk.h"

namespace cairn::init::stage1 {
namespace {
namespace fs = std::filesystem;

TEST(BlockDevices, ParseUevent) {
  auto d =
      parse_block_uevent("vda2",
                         "MAJOR=254\nMINOR=2\nDEVNAME=vda2\nDEVTYPE=partition\nDISKSEQ=9\nPARTN=2\n"
                         "PARTNAME=cairn-root-a\n");
  EXPECT_EQ(d.dev(), "254:2");
  EXPECT_TRUE(d.partition);
  EXPECT_EQ(d.partn, 2);
  EXPECT_EQ(d.partname, "cairn-root-a");
  auto disk = parse_block_uevent("vda", "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n");
  EXPECT_FALSE(disk.partition);
  EXPECT_EQ(parse_block_uevent("x", "DEVNAME=../etc\n").devname, "x");
}

TEST(BlockDevices, Match) {
  std::vector<BlockDevice> devices(3);
  devices[0] = parse_block_uevent("vda", "DEVTYPE=disk\nDEVNAME=vda\n");
  devices[1] = parse_block_uevent("vda1", "DEVTYPE=partition\nPARTN=1\nPARTNAME=cairn-boot\n");
  devices[2] = parse_block_uevent("vda2", "DEVTYPE=partition\nPARTN=2\nPARTNAME=cairn-root-a\n");
  devices[2].partuuid = "AAAAAAAA-0000-4000-8000-000000000002";
  std::string why;
  auto one = [&](const std::string& spec) {
    auto m = match_devices(parse_device_spec(spec, &why), devices);
    return m.size() == 1 ? m[0]->name : std::to_string(m.size());
  };
  EXPECT_EQ(one("PARTLABEL=cairn-boot"), "vda1");
  EXPECT_EQ(one("PARTUUID=aaaaaaaa-0000-4000-8000-000000000002"), "vda2");
  EXPECT_EQ(one("/dev/vda"), "vda");
  EXPECT_EQ(one("PARTLABEL=cairn-data"), "0");
  devices[0].partname = "cairn-boot";  // a whole disk never matches a PARTLABEL
  EXPECT_EQ(one("PARTLABEL=cairn-boot"), "vda1");
}

// A fake sysfs (the kernel's layout: class/block/<name> -> devices/.../<disk>/<part>) and a
// "disk node" that is a file holding a real GPT.
TEST(BlockDevices, ScanReadsPartuuidsFromTheDisk) {
  testing::TestDisk disk(
      16,
      "label: gpt\nstart=2048, size=4096, uuid=BBBBBBBB-0000-4000-8000-000000000001, "
      "name=cairn-boot\nsize=4096, uuid=BBBBBBBB-0000-4000-8000-000000000002, "
      "name=cairn-root-a\n");
  ASSERT_TRUE(disk.ok());
  fs::path root = fs::temp_directory_path() / ("sysfs_test." + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::path devices = root / "devices/pci0/virtio1/block/vdb";
  fs::create_directories(devices / "vdb1");
  fs::create_directories(devices / "vdb2");
  fs::create_directories(devices / "queue");
  fs::create_directories(root / "class/block");
  fs::create_directories(root / "dev");
  std::ofstream(devices / "uevent") << "MAJOR=254\nMINOR=16\nDEVNAME=vdb\nDEVTYPE=disk\n";
  std::ofstream(devices / "queue/logical_block_size") << "512\n";
  std::ofstream(devices / "vdb1/uevent")
      << "MAJOR=254\nMINOR=17\nDEVNAME=vdb1\nDEVTYPE=partition\nPARTN=1\nPARTNAME=cairn-boot\n";
  std::ofstream(devices / "vdb2/uevent")
      << "MAJOR=254\nMINOR=18\nDEVNAME=vdb2\nDEVTYPE=partition\nPARTN=2\nPARTNAME=cairn-root-a\n";
  fs::create_directory_symlink(devices, root / "class/block/vdb");
  fs::create_directory_symlink(devices / "vdb1", root / "class/block/vdb1");
  fs::create_directory_symlink(devices / "vdb2", root / "class/block/vdb2");
  fs::copy_file(disk.path(), root / "dev/vdb");
  auto found = scan_block_devices((root / "class/block").string(), (root / "dev").string());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].name, "vdb");
  EXPECT_EQ(found[1].disk, "vdb");
  EXPECT_EQ(found[1].partuuid, "bbbbbbbb-0000-4000-8000-000000000001");
  EXPECT_EQ(found[2].partuuid, "bbbbbbbb-0000-4000-8000-000000000002");
  EXPECT_EQ(found[2].dev(), "254:18");
  fs::remove_all(root);
}

}  // namespace
}  // namespace cairn::init::stage1
