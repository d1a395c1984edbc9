#include "init/stage1/verity.h"

#include <gtest/gtest.h>
#include <linux/dm-ioctl.h>

#include <cstring>

#include "init/stage1/test_disk.h"

namespace cairn::init::stage1 {
namespace {

// A real veritysetup format over 4 MiB of data with the hash tree at 4 MiB of the same file.
class VeritySetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(disk_.ok());
    std::string out = disk_.run(
        "veritysetup format --hash-offset=4194304 --data-blocks=1024 "
        "--salt=00112233445566778899aabbccddeeff {} {} 2>&1");
    const size_t at = out.find("Root hash:");
    ASSERT_NE(at, std::string::npos) << out;
    roothash_ = out.substr(out.find_first_not_of(" \t", at + 10), 64);
    sb_bytes_ = disk_.bytes().substr(4194304, 512);
  }
  // sfdisk with an empty script fails; the file itself is what matters here.
  testing::TestDisk disk_{8, "label: dos\n"};
  std::string roothash_;
  std::string sb_bytes_;
};

TEST_F(VeritySetupTest, SuperblockAndTable) {
  std::string error;
  auto sb = parse_verity_superblock(sb_bytes_, &error);
  ASSERT_TRUE(sb) << error;
  EXPECT_EQ(sb->hash_type, 1u);
  EXPECT_EQ(sb->algorithm, "sha256");
  EXPECT_EQ(sb->data_block_size, 4096u);
  EXPECT_EQ(sb->hash_block_size, 4096u);
  EXPECT_EQ(sb->data_blocks, 1024u);
  EXPECT_EQ(sb->salt_hex, "00112233445566778899aabbccddeeff");
  auto t = verity_target(*sb, "254:3", roothash_, 4194304, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->length_sectors, 8192u);
  // hash start block: the hash block after the superblock (4 MiB / 4 KiB + 1).
  EXPECT_EQ(t->params, "1 254:3 254:3 4096 4096 1024 1025 sha256 " + roothash_ +
                           " 00112233445566778899aabbccddeeff");
}

TEST_F(VeritySetupTest, TableChecksItsInputs) {
  std::string error;
  auto sb = parse_verity_superblock(sb_bytes_, &error);
  ASSERT_TRUE(sb);
  EXPECT_FALSE(verity_target(*sb, "1:2", roothash_.substr(2), 4194304, &error));
  EXPECT_NE(error.find("64"), std::string::npos) << error;
  EXPECT_FALSE(verity_target(*sb, "1:2", roothash_, 4194304 + 512, &error));
  EXPECT_FALSE(verity_target(*sb, "1:2", roothash_, 4096 * 1000, &error));  // overlaps data
  EXPECT_NE(error.find("overlaps"), std::string::npos);
}

TEST(VeritySuperblock, RejectsBadFields) {
  std::string sb(512, '\0');
  std::memcpy(sb.data(), "verity\0\0", 8);
  auto set32 = [&](size_t at, uint32_t v) { std::memcpy(sb.data() + at, &v, 4); };
  set32(8, 1);
  set32(12, 1);
  std::memcpy(sb.data() + 32, "sha256", 6);
  set32(64, 4096);
  set32(68, 4096);
  uint64_t blocks = 10;
  std::memcpy(sb.data() + 72, &blocks, 8);
  std::string error;
  ASSERT_TRUE(parse_verity_superblock(sb, &error)) << error;
  EXPECT_EQ(parse_verity_superblock(sb, &error)->salt_hex, "");
  auto broken = [&](size_t at, const std::string& bytes) {
    std::string copy = sb;
    copy.replace(at, bytes.size(), bytes);
    return !parse_verity_superblock(copy, &error);
  };
  EXPECT_TRUE(broken(0, "VERITY"));
  EXPECT_TRUE(broken(8, std::string("\2", 1)));           // version
  EXPECT_TRUE(broken(12, std::string("\7", 1)));          // hash type
  EXPECT_TRUE(broken(32, "sh a"));                        // algorithm characters
  EXPECT_TRUE(broken(64, std::string("\0\x30\0\0", 4)));  // 12288: not a power of two
  EXPECT_TRUE(broken(72, std::string(8, '\0')));          // no data blocks
  EXPECT_TRUE(broken(80, std::string("\x01\x01", 2)));    // salt of 257 bytes
  EXPECT_FALSE(parse_verity_superblock(sb.substr(0, 100), &error));
  auto ok = parse_verity_superblock(sb, &error);
  ok->algorithm = "md5";
  EXPECT_FALSE(verity_target(*ok, "1:2", std::string(32, 'a'), 1 << 20, &error));
}

TEST(DmIoctl, BuffersAreWellFormed) {
  std::string create = dm_ioctl_buffer("cairn-root", 0);
  const auto* io = reinterpret_cast<const struct dm_ioctl*>(create.data());
  EXPECT_EQ(io->version[0], 4u);
  EXPECT_EQ(io->data_size, create.size());
  EXPECT_STREQ(io->name, "cairn-root");

  std::string load = dm_table_load_buffer("cairn-root", "verity", 8192, "1 2 3", true);
  io = reinterpret_cast<const struct dm_ioctl*>(load.data());
  EXPECT_EQ(io->target_count, 1u);
  EXPECT_EQ(io->flags & DM_READONLY_FLAG, DM_READONLY_FLAG);
  EXPECT_EQ(io->data_size, load.size());
  EXPECT_EQ(load.size() % 8, 0u);
  const auto* spec = reinterpret_cast<const struct dm_target_spec*>(load.data() + io->data_start);
  EXPECT_EQ(spec->length, 8192u);
  EXPECT_STREQ(spec->target_type, "verity");
  EXPECT_STREQ(load.data() + io->data_start + sizeof(struct dm_target_spec), "1 2 3");
}

}  // namespace
}  // namespace cairn::init::stage1
