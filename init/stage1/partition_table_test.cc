#include "init/stage1/partition_table.h"

#include <gtest/gtest.h>

#include "init/stage1/test_disk.h"

namespace cairn::init::stage1 {
namespace {

using testing::TestDisk;

constexpr const char* kGpt =
    "label: gpt\n"
    "label-id: 11111111-2222-4333-8444-555555555555\n"
    "start=2048, size=8192, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, "
    "uuid=AAAAAAAA-0000-4000-8000-000000000001, name=cairn-boot\n"
    "size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
    "uuid=AAAAAAAA-0000-4000-8000-000000000002, name=cairn-root-a\n"
    "size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
    "uuid=AAAAAAAA-0000-4000-8000-000000000003, name=cairn-root-b\n"
    "size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
    "uuid=AAAAAAAA-0000-4000-8000-000000000004, name=cairn-data\n";

TEST(PartitionTable, ReadsGptMadeBySfdisk) {
  TestDisk disk(64, kGpt);
  ASSERT_TRUE(disk.ok());
  std::string error;
  auto t = read_partition_table(disk.reader(), 512, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->kind, PartitionTable::Kind::kGpt);
  EXPECT_EQ(t->disk_id, "11111111-2222-4333-8444-555555555555");
  ASSERT_EQ(t->partitions.size(), 4u);
  EXPECT_EQ(t->partitions[0].name, "cairn-boot");
  EXPECT_EQ(t->partitions[0].type, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
  EXPECT_EQ(t->partitions[1].partuuid, "aaaaaaaa-0000-4000-8000-000000000002");
  EXPECT_EQ(t->partitions[1].first_lba, 10240u);
  EXPECT_EQ(t->partitions[1].last_lba, 10240u + 16384 - 1);
  EXPECT_EQ(t->partitions[3].number, 4);
  EXPECT_EQ(t->partitions[3].name, "cairn-data");
  EXPECT_EQ(t->entry_count, 128u);
  EXPECT_EQ(t->alternate_lba, (64u << 11) - 1);
}

TEST(PartitionTable, ReadsMbrWithItsPartuuids) {
  TestDisk disk(64,
                "label: dos\nlabel-id: 0x1234abcd\n"
                "start=8192, size=8192, type=c\nsize=16384, type=83\ntype=83\n");
  ASSERT_TRUE(disk.ok());
  std::string error;
  auto t = read_partition_table(disk.reader(), 512, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->kind, PartitionTable::Kind::kMbr);
  EXPECT_EQ(t->disk_id, "1234abcd");
  ASSERT_EQ(t->partitions.size(), 3u);
  EXPECT_EQ(t->partitions[0].partuuid, "1234abcd-01");
  EXPECT_EQ(t->partitions[0].type, "0x0c");
  EXPECT_EQ(t->partitions[2].partuuid, "1234abcd-03");
  EXPECT_EQ(t->partitions[2].last_lba, 8191u);  // sfdisk put it in the gap before 8192
}

TEST(PartitionTable, DamagedPrimaryFallsBackToBackup) {
  TestDisk disk(64, kGpt);
  ASSERT_TRUE(disk.ok());
  disk.write_at(512 + 60, "X");  // the disk GUID: the primary header's CRC no longer matches
  std::string error;
  auto t = read_partition_table(disk.reader(), 512, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_TRUE(t->from_backup);
  EXPECT_EQ(t->partitions.size(), 4u);
  EXPECT_EQ(t->partitions[3].name, "cairn-data");
}

TEST(PartitionTable, CorruptEntriesAreRejected) {
  TestDisk disk(64, kGpt);
  ASSERT_TRUE(disk.ok());
  disk.write_at(1024 + 56, "Z");  // partition 1's name: entries CRC breaks
  // Also break the backup, so no valid table remains.
  disk.write_at((uint64_t(64) << 20) - 512, std::string(512, '\0'));
  std::string error;
  EXPECT_FALSE(read_partition_table(disk.reader(), 512, &error));
  EXPECT_NE(error.find("CRC"), std::string::npos) << error;
}

TEST(PartitionTable, NoTable) {
  std::string zeros(4096, '\0');
  ReadAt read = [&](uint64_t o, size_t n) -> std::optional<std::string> {
    if (o + n > zeros.size()) return std::nullopt;
    return zeros.substr(o, n);
  };
  std::string error;
  EXPECT_FALSE(read_partition_table(read, 512, &error));
  EXPECT_NE(error.find("55aa"), std::string::npos);
  EXPECT_FALSE(read_partition_table(read, 500, &error));
}

TEST(PartitionTable, Crc32MatchesZlib) {
  EXPECT_EQ(crc32("123456789", 9), 0xcbf43926u);
  EXPECT_EQ(crc32("", 0), 0u);
}

}  // namespace
}  // namespace cairn::init::stage1
