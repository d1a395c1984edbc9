#include "init/exec/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace cairn::init {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-credentials-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/passwd") << "# comment\n"
                                       "root:x:0:0:root:/root:/bin/sh\n"
                                       "www:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
                                       "kube:x:1000:1000::/home/kube:/bin/sh\n"
                                       "broken:x:abc:1::/:/bin/sh\n";
    std::ofstream(dir_ + "/group") << "root:x:0:\n"
                                      "www-data:x:33:\n"
                                      "adm:x:4:kube,other\n"
                                      "docker:x:999:other,kube\n"
                                      "kube:x:1000:\n"
                                      "video:x:44:www\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CredentialsTest, EmptyMeansStayRoot) {
  Credentials c;
  EXPECT_EQ(resolve_credentials("", "", c, dir_), "");
  EXPECT_FALSE(c.change);
  EXPECT_EQ(c.uid, 0u);
}

TEST_F(CredentialsTest, NameGivesPrimaryAndSupplementaryGroups) {
  Credentials c;
  EXPECT_EQ(resolve_credentials("kube", "", c, dir_), "");
  EXPECT_TRUE(c.change);
  EXPECT_EQ(c.uid, 1000u);
  EXPECT_EQ(c.gid, 1000u);
  EXPECT_EQ(c.groups, (std::vector<gid_t>{1000, 4, 999}));
}

TEST_F(CredentialsTest, ExplicitGroupByNameAndNumber) {
  Credentials c;
  EXPECT_EQ(resolve_credentials("www", "video", c, dir_), "");
  EXPECT_EQ(c.uid, 33u);
  EXPECT_EQ(c.gid, 44u);
  EXPECT_EQ(c.groups, (std::vector<gid_t>{44}));  // www is a member of video only
  EXPECT_EQ(resolve_credentials("www", "4242", c, dir_), "");
  EXPECT_EQ(c.gid, 4242u);
}

TEST_F(CredentialsTest, NumericUidWithAndWithoutPasswdEntry) {
  Credentials c;
  EXPECT_EQ(resolve_credentials("1000", "", c, dir_), "");
  EXPECT_EQ(c.uid, 1000u);
  EXPECT_EQ(c.gid, 1000u);
  EXPECT_EQ(c.groups, (std::vector<gid_t>{1000, 4, 999}));  // via its passwd name
  EXPECT_EQ(resolve_credentials("65534", "", c, dir_), "");
  EXPECT_EQ(c.uid, 65534u);
  EXPECT_EQ(c.gid, 65534u);
  EXPECT_EQ(c.groups, (std::vector<gid_t>{65534}));
}

TEST_F(CredentialsTest, GroupOnlyKeepsRootUid) {
  Credentials c;
  EXPECT_EQ(resolve_credentials("", "adm", c, dir_), "");
  EXPECT_TRUE(c.change);
  EXPECT_EQ(c.uid, 0u);
  EXPECT_EQ(c.gid, 4u);
}

TEST_F(CredentialsTest, ErrorsNameTheProblem) {
  Credentials c;
  EXPECT_EQ(resolve_credentials("nobody-here", "", c, dir_),
            "user \"nobody-here\" not found in " + dir_ + "/passwd");
  EXPECT_EQ(resolve_credentials("kube", "nogroup", c, dir_),
            "group \"nogroup\" not found in " + dir_ + "/group");
  EXPECT_EQ(resolve_credentials("broken", "", c, dir_),
            "user \"broken\": malformed entry in " + dir_ + "/passwd");
  // (uid_t)-1 is "unchanged" to the kernel: never accepted as a number.
  EXPECT_EQ(resolve_credentials("4294967295", "", c, dir_),
            "user \"4294967295\" not found in " + dir_ + "/passwd");
  EXPECT_NE(resolve_credentials("kube", "", c, "/nonexistent").find("cannot read"),
            std::string::npos);
}

}  // namespace
}  // namespace cairn::init
