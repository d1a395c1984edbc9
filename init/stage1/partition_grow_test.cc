#include "init/stage1/partition_grow.h"

#include <gtest/gtest.h>

#include "init/stage1/test_disk.h"

namespace cairn::init::stage1 {
namespace {

using testing::TestDisk;

void apply(TestDisk& disk, const GrowPlan& plan) {
  for (const auto& w : plan.writes) disk.write_at(w.offset, w.bytes);
}

TEST(PartitionGrow, GptLastPartitionToTheNewEnd) {
  TestDisk disk(
      64,
      "label: gpt\nstart=2048, size=8192, name=cairn-boot\nsize=16384, name=cairn-root-a\n"
      "size=8192, name=cairn-data\n");
  ASSERT_TRUE(disk.ok());
  disk.resize(256);  // the image was written to a bigger disk
  std::string error;
  auto table = read_partition_table(disk.reader(), 512, &error);
  ASSERT_TRUE(table) << error;
  EXPECT_FALSE(plan_grow(*table, 1, 256 << 11, &error));  // not the last partition
  EXPECT_TRUE(error.empty());
  auto plan = plan_grow(*table, 3, 256 << 11, &error);
  ASSERT_TRUE(plan) << error;
  EXPECT_EQ(plan->first_lba, 26624u);
  // 256 MiB disk, 33 sectors of backup at the end, end aligned down to 1 MiB.
  EXPECT_EQ(plan->new_last_lba, (255u << 11) - 1);
  apply(disk, *plan);
  // sfdisk agrees: a valid table, no complaints, backup header at the end.
  std::string verify = disk.run("sfdisk --verify {} 2>&1");
  EXPECT_NE(verify.find("No errors detected."), std::string::npos) << verify;
  EXPECT_EQ(verify.find("mismatch"), std::string::npos) << verify;
  EXPECT_EQ(verify.find("not at the end"), std::string::npos) << verify;
  std::string dump = disk.run("sfdisk --dump {} 2>&1");
  EXPECT_NE(dump.find("start=       26624, size=      495616"), std::string::npos) << dump;
  EXPECT_NE(dump.find("last-lba: 524254"), std::string::npos) << dump;
  // Growing again finds nothing to do.
  auto again = read_partition_table(disk.reader(), 512, &error);
  ASSERT_TRUE(again) << error;
  EXPECT_FALSE(plan_grow(*again, 3, 256 << 11, &error));
  EXPECT_TRUE(error.empty()) << error;
}

TEST(PartitionGrow, MbrEntryRewritten) {
  TestDisk disk(
      64, "label: dos\nlabel-id: 0x01020304\nstart=2048, size=8192, type=c\nsize=8192, type=83\n");
  ASSERT_TRUE(disk.ok());
  disk.resize(128);
  std::string error;
  auto table = read_partition_table(disk.reader(), 512, &error);
  ASSERT_TRUE(table) << error;
  auto plan = plan_grow(*table, 2, 128 << 11, &error);
  ASSERT_TRUE(plan) << error;
  EXPECT_EQ(plan->new_last_lba, (128u << 11) - 1);
  apply(disk, *plan);
  std::string dump = disk.run("sfdisk --dump {} 2>&1");
  EXPECT_NE(dump.find("start=       10240, size=      251904, type=83"), std::string::npos) << dump;
}

TEST(PartitionGrow, SmallGainsAndBadRequests) {
  TestDisk disk(64, "label: gpt\nstart=2048, size=8192\nsize=8192\n");
  ASSERT_TRUE(disk.ok());
  std::string error;
  auto table = read_partition_table(disk.reader(), 512, &error);
  ASSERT_TRUE(table);
  // 64 MiB disk, partition ends at 9 MiB: growing is worth it; 20 MiB "disk": < 16 MiB gain.
  EXPECT_TRUE(plan_grow(*table, 2, 64 << 11, &error));
  EXPECT_FALSE(plan_grow(*table, 2, 20 << 11, &error));
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(plan_grow(*table, 7, 64 << 11, &error));
  EXPECT_NE(error.find("no partition 7"), std::string::npos);
  error.clear();
  EXPECT_FALSE(plan_grow(*table, 2, 100, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace cairn::init::stage1
