#include "image/build/archive_index.h"

#include <gtest/gtest.h>

namespace cairn::image {
namespace {

// The shape of a Debian InRelease (clearsigned; MD5Sum and SHA256 sections).
const char* kInRelease = R"(-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Origin: Debian
Suite: stable-security
Codename: bookworm-security
Architectures: amd64 arm64
Components: updates/main updates/contrib main non-free-firmware
MD5Sum:
 0123456789abcdef0123456789abcdef   1000 main/binary-amd64/Packages.xz
SHA256:
 aaaa000000000000000000000000000000000000000000000000000000000001  5000 main/binary-amd64/Packages
 aaaa000000000000000000000000000000000000000000000000000000000002  1000 main/binary-amd64/Packages.xz
 bbbb000000000000000000000000000000000000000000000000000000000003  900 main/binary-arm64/Packages.xz
 cccc000000000000000000000000000000000000000000000000000000000004  90 non-free-firmware/binary-amd64/Packages.xz
 dddd000000000000000000000000000000000000000000000000000000000005  77 main/source/Sources.xz
 eeee000000000000000000000000000000000000000000000000000000000006  12 main/binary-amd64/Release
-----BEGIN PGP SIGNATURE-----
)";

TEST(ArchiveIndex, PicksThePackagesIndexesOfTheComponentsAndArch) {
  EXPECT_EQ(packages_index_lines(kInRelease, {"main"}, "amd64"),
            "aaaa000000000000000000000000000000000000000000000000000000000001 5000 "
            "main/binary-amd64/Packages\n"
            "aaaa000000000000000000000000000000000000000000000000000000000002 1000 "
            "main/binary-amd64/Packages.xz\n");
  std::string both = packages_index_lines(kInRelease, {"main", "non-free-firmware"}, "amd64");
  EXPECT_NE(both.find("non-free-firmware/binary-amd64/Packages.xz"), std::string::npos) << both;
  EXPECT_EQ(both.find("MD5"), std::string::npos);
  EXPECT_EQ(packages_index_lines(kInRelease, {"main"}, "arm64"),
            "bbbb000000000000000000000000000000000000000000000000000000000003 900 "
            "main/binary-arm64/Packages.xz\n");
}

TEST(ArchiveIndex, NothingForAnotherArchOrGarbage) {
  EXPECT_EQ(packages_index_lines(kInRelease, {"main"}, "riscv64"), "");
  EXPECT_EQ(packages_index_lines("<html>404</html>\n", {"main"}, "amd64"), "");
  EXPECT_EQ(packages_index_lines("", {"main"}, "amd64"), "");
}

TEST(ArchiveIndex, SourcesAreTheMirrorThenTheExtras) {
  Recipe r;
  r.suite = "bookworm";
  r.mirror = "http://deb.debian.org/debian";
  r.extra_sources = {"http://deb.debian.org/debian-security bookworm-security"};
  auto s = apt_sources(r);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].uri, "http://deb.debian.org/debian");
  EXPECT_EQ(s[0].suite, "bookworm");
  EXPECT_EQ(s[1].uri, "http://deb.debian.org/debian-security");
  EXPECT_EQ(s[1].suite, "bookworm-security");
}

}  // namespace
}  // namespace cairn::image
