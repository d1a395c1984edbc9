#include "init/system/mountinfo.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace cairn::init::system {
namespace {

TEST(Mountinfo, ParsesTheProcManPageExample) {
  auto info = parse_mountinfo(
      "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n");
  ASSERT_TRUE(info.errors.empty());
  ASSERT_EQ(info.entries.size(), 1u);
  const MountEntry& e = info.entries[0];
  EXPECT_EQ(e.mount_id, 36);
  EXPECT_EQ(e.parent_id, 35);
  EXPECT_EQ(e.major, 98u);
  EXPECT_EQ(e.minor, 0u);
  EXPECT_EQ(e.root, "/mnt1");
  EXPECT_EQ(e.mount_point, "/mnt2");
  EXPECT_EQ(e.mount_options, "rw,noatime");
  ASSERT_EQ(e.optional_fields.size(), 1u);
  EXPECT_EQ(e.optional_fields[0], "master:1");
  EXPECT_EQ(e.fstype, "ext3");
  EXPECT_EQ(e.source, "/dev/root");
  EXPECT_EQ(e.super_options, "rw,errors=continue");
  EXPECT_TRUE(e.has_mount_option("noatime"));
  EXPECT_FALSE(e.has_mount_option("noat"));
  EXPECT_FALSE(e.read_only());
}

TEST(Mountinfo, NoOptionalFieldsAndSeveral) {
  auto info = parse_mountinfo(
      "1 0 0:1 / / ro - erofs /dev/dm-0 ro\n"
      "2 1 0:2 / /proc rw,nosuid shared:2 master:3 propagate_from:4 - proc proc rw\n");
  ASSERT_TRUE(info.errors.empty());
  ASSERT_EQ(info.entries.size(), 2u);
  EXPECT_TRUE(info.entries[0].optional_fields.empty());
  EXPECT_TRUE(info.entries[0].read_only());
  EXPECT_EQ(info.entries[1].optional_fields.size(), 3u);
}

TEST(Mountinfo, UnescapesOctal) {
  auto info =
      parse_mountinfo("40 1 0:40 / /mnt/with\\040space\\011tab\\134 rw - tmpfs my\\040src rw\n");
  ASSERT_TRUE(info.errors.empty());
  EXPECT_EQ(info.entries[0].mount_point, "/mnt/with space\ttab\\");
  EXPECT_EQ(info.entries[0].source, "my src");
  EXPECT_EQ(unescape_mountinfo_field("\\04"), "\\04");    // short: kept verbatim
  EXPECT_EQ(unescape_mountinfo_field("\\999"), "\\999");  // not octal
  EXPECT_EQ(unescape_mountinfo_field("\\777"), "\\777");  // above 255
  EXPECT_EQ(unescape_mountinfo_field("a\\101b"), "aAb");
}

TEST(Mountinfo, FindReturnsTheTopMostMount) {
  auto info = parse_mountinfo(
      "1 0 0:1 / / rw - ext4 /dev/vda rw\n"
      "2 1 0:2 / /tmp rw - tmpfs tmpfs rw\n"
      "3 2 0:3 / /tmp ro - tmpfs other ro\n");
  ASSERT_NE(info.find("/tmp"), nullptr);
  EXPECT_EQ(info.find("/tmp")->source, "other");
  EXPECT_TRUE(info.is_mount_point("/"));
  EXPECT_FALSE(info.is_mount_point("/tm"));
}

TEST(Mountinfo, MalformedLinesAreReportedWithPositions) {
  auto info = parse_mountinfo(
      "1 0 0:1 / / rw - ext4 /dev/vda rw\n"
      "x 0 0:1 / / rw - ext4 /dev/vda rw\n"
      "2 0 01 / / rw - ext4 /dev/vda rw\n"
      "3 0 0:1 / /a rw shared:1\n"
      "4 0 0:1 / /b rw - ext4\n"
      "5 0\n"
      "\n"
      "6 1 0:6 / /ok rw - tmpfs t rw\n");
  ASSERT_EQ(info.entries.size(), 2u);
  EXPECT_EQ(info.entries[1].mount_point, "/ok");
  ASSERT_EQ(info.errors.size(), 5u);
  EXPECT_EQ(info.errors[0].line, 2);
  EXPECT_EQ(info.errors[0].column, 1);
  EXPECT_EQ(info.errors[0].message, "mount id is not a number");
  EXPECT_EQ(info.errors[1].line, 3);
  EXPECT_EQ(info.errors[1].column, 5);
  EXPECT_EQ(info.errors[2].line, 4);
  EXPECT_EQ(info.errors[2].message, "missing the ' - ' separator");
  EXPECT_EQ(info.errors[3].line, 5);
  EXPECT_EQ(info.errors[4].line, 6);
  EXPECT_EQ(info.errors[0].str(), "/proc/self/mountinfo:2:1: error: mount id is not a number");
}

TEST(Mountinfo, ParsesThisMachinesMountinfo) {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  auto info = parse_mountinfo(text.str());
  EXPECT_TRUE(info.errors.empty()) << info.errors[0].str();
  EXPECT_TRUE(info.is_mount_point("/"));
  ASSERT_NE(info.find("/proc"), nullptr);
  EXPECT_EQ(info.find("/proc")->fstype, "proc");
}

}  // namespace
}  // namespace cairn::init::system
