#include "image/layout/disk_layout.h"

#include <gtest/gtest.h>

#include <regex>

namespace cairn::image {
namespace {

constexpr uint64_t M = 1024 * 1024;

TEST(DiskLayout, GptPartitionsAreAlignedAndContiguous) {
  auto l = compute_layout(TableType::kGpt, false, "seed-1", 128 * M, 512 * M, 256 * M);
  ASSERT_EQ(l.partitions.size(), 4u);
  EXPECT_EQ(l.partitions[0].label, "cairn-boot");
  EXPECT_EQ(l.partitions[1].label, "cairn-root-a");
  EXPECT_EQ(l.partitions[2].label, "cairn-root-b");
  EXPECT_EQ(l.partitions[3].label, "cairn-data");
  EXPECT_EQ(l.partitions[0].offset, 1 * M);
  EXPECT_EQ(l.partitions[1].offset, 129 * M);
  EXPECT_EQ(l.partitions[2].offset, 641 * M);
  EXPECT_EQ(l.partitions[2].size, l.partitions[1].size);
  EXPECT_EQ(l.partitions[3].offset, 1153 * M);
  EXPECT_EQ(l.disk_size, 1153 * M + 256 * M + 1 * M);
  for (const auto& p : l.partitions) EXPECT_EQ(p.offset % M, 0u);
  EXPECT_EQ(l.partitions[0].type, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
  EXPECT_EQ(l.partitions[1].type, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");
}

TEST(DiskLayout, Arm64RootType) {
  auto l = compute_layout(TableType::kGpt, true, "s", 64 * M, 64 * M, 64 * M);
  EXPECT_EQ(l.partitions[1].type, "B921B045-1DF0-41C3-AF44-4C6F280D3FAE");
}

TEST(DiskLayout, IdentifiersAreSeededStableAndDistinct) {
  auto a = compute_layout(TableType::kGpt, false, "seed-1", 64 * M, 64 * M, 64 * M);
  auto b = compute_layout(TableType::kGpt, false, "seed-1", 64 * M, 64 * M, 64 * M);
  auto c = compute_layout(TableType::kGpt, false, "seed-2", 64 * M, 64 * M, 64 * M);
  EXPECT_EQ(a.disk_id, b.disk_id);
  EXPECT_NE(a.disk_id, c.disk_id);
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(a.disk_id, uuid)) << a.disk_id;
  for (size_t i = 0; i < a.partitions.size(); ++i) {
    EXPECT_EQ(a.partitions[i].partuuid, b.partitions[i].partuuid);
    EXPECT_TRUE(std::regex_match(a.partitions[i].partuuid, uuid));
    for (size_t j = 0; j < i; ++j) EXPECT_NE(a.partitions[i].partuuid, a.partitions[j].partuuid);
  }
}

TEST(DiskLayout, MbrUsesSignatureBasedPartuuids) {
  auto l = compute_layout(TableType::kMbr, true, "rpi", 128 * M, 256 * M, 64 * M);
  ASSERT_TRUE(std::regex_match(l.disk_id, std::regex("0x[0-9a-f]{8}"))) << l.disk_id;
  std::string sig = l.disk_id.substr(2);
  EXPECT_EQ(l.partitions[0].partuuid, sig + "-01");
  EXPECT_EQ(l.partitions[3].partuuid, sig + "-04");
  EXPECT_EQ(l.partitions[0].type, "c");
  EXPECT_TRUE(l.partitions[0].bootable);
  EXPECT_FALSE(l.partitions[1].bootable);
  EXPECT_EQ(partition_ref(l, "cairn-root-a"), "PARTUUID=" + sig + "-02");
}

TEST(DiskLayout, SfdiskScriptGpt) {
  auto l = compute_layout(TableType::kGpt, false, "s", 64 * M, 128 * M, 64 * M);
  std::string s = sfdisk_script(l);
  EXPECT_NE(s.find("label: gpt\n"), std::string::npos);
  EXPECT_NE(s.find("label-id: " + l.disk_id + "\n"), std::string::npos);
  EXPECT_NE(s.find("start=2048, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=" +
                   l.partitions[0].partuuid + ", name=\"cairn-boot\"\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("last-lba: " + std::to_string(l.disk_size / 512 - 34)), std::string::npos);
  EXPECT_EQ(partition_ref(l, "cairn-data"), "PARTLABEL=cairn-data");
}

TEST(DiskLayout, SfdiskScriptMbr) {
  auto l = compute_layout(TableType::kMbr, true, "s", 64 * M, 64 * M, 64 * M);
  std::string s = sfdisk_script(l);
  EXPECT_NE(s.find("label: dos\n"), std::string::npos);
  EXPECT_NE(s.find("start=2048, size=131072, type=c, bootable\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("name="), std::string::npos);
}

TEST(DiskLayout, RejectsUnalignedSizes) {
  EXPECT_THROW(compute_layout(TableType::kGpt, false, "s", 64 * M + 512, 64 * M, 64 * M),
               std::runtime_error);
  EXPECT_THROW(compute_layout(TableType::kGpt, false, "s", 64 * M, 0, 64 * M), std::runtime_error);
  auto l = compute_layout(TableType::kGpt, false, "s", 64 * M, 64 * M, 64 * M);
  EXPECT_THROW(l.by_label("nope"), std::runtime_error);
}

}  // namespace
}  // namespace cairn::image
