#include "image/build/dpkg_status.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cairn::image {
namespace {

// A made-up status file in the shape the rootfs stage writes (and dpkg itself keeps):
// multi-line fields, an entry dpkg knows but whose files are gone, mixed-case field names,
// a multi-arch pair, no trailing blank line.
constexpr const char* kStatus =
    "Package: util-linux\n"
    "Status: install ok unpacked\n"
    "Priority: required\n"
    "Architecture: amd64\n"
    "Version: 2.38.1-5+deb12u3\n"
    "Depends: libc6 (>= 2.34),\n"
    " libmount1 (= 2.38.1-5+deb12u3)\n"
    "Description: miscellaneous system utilities\n"
    " This package contains a number of important utilities.\n"
    " .\n"
    " More text.\n"
    "\n"
    "Package: linux-image-6.1.0-56-amd64\n"
    "Status: install ok installed\n"
    "Version: 6.1.192-2\n"
    "Architecture: amd64\n"
    "\n"
    "\n"
    "Package: old-kernel\n"
    "Status: deinstall ok config-files\n"
    "Version: 1.0\n"
    "Architecture: amd64\n"
    "\n"
    "package: libc6\n"
    "STATUS: install ok unpacked\n"
    "version: 2.36-9+deb12u13\n"
    "architecture: i386\n"
    "\n"
    "Package: libc6\n"
    "Status: install ok unpacked\n"
    "Version: 2.36-9+deb12u13\n"
    "Architecture: amd64\n"
    "\n"
    "Package: tzdata\n"
    "Status:   install ok unpacked   \n"
    "Version: 1:2025b-0+deb12u1\n"
    "Architecture: all";

TEST(DpkgStatus, ParsesPackagesOnDiskSorted) {
  auto packages = parse_dpkg_status(kStatus, "status");
  std::vector<PackageInfo> want = {
      {"libc6", "2.36-9+deb12u13", "amd64"},
      {"libc6", "2.36-9+deb12u13", "i386"},
      {"linux-image-6.1.0-56-amd64", "6.1.192-2", "amd64"},
      {"tzdata", "1:2025b-0+deb12u1", "all"},
      {"util-linux", "2.38.1-5+deb12u3", "amd64"},
  };
  EXPECT_EQ(packages, want);
  EXPECT_EQ(packages_tsv(packages).substr(0, 32), "libc6\t2.36-9+deb12u13\tamd64\nlibc");
}

TEST(DpkgStatus, EmptyFileHasNoPackages) {
  EXPECT_TRUE(parse_dpkg_status("", "status").empty());
  EXPECT_TRUE(parse_dpkg_status("\n\n  \n", "status").empty());
}

std::string error_of(const std::string& text) {
  try {
    parse_dpkg_status(text, "root/var/lib/dpkg/status");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

constexpr const char* kGood =
    "Package: bash\nStatus: install ok unpacked\nVersion: 5.2.15-2+b7\nArchitecture: amd64\n";

TEST(DpkgStatus, BadInputNamesFileLineColumnAndReason) {
  const std::string f = "root/var/lib/dpkg/status:";
  EXPECT_EQ(error_of(" leading continuation\n"),
            f + "1:1: continuation line with no field before it");
  EXPECT_EQ(error_of(std::string(kGood) + "\nPackage: a\nno colon here\n"),
            f + "7:1: expected 'Field: value'");
  EXPECT_EQ(error_of(std::string(kGood) + "Version: 1\n"),
            f + "5:1: field 'Version' repeated (first at line 3)");
  EXPECT_EQ(error_of(": value\n"), f + "1:1: invalid field name ''");
  EXPECT_EQ(error_of("Pack age: x\n"), f + "1:5: invalid field name 'Pack age'");
  EXPECT_EQ(error_of("Package: bash\nStatus: install ok unpacked\nArchitecture: amd64\n"),
            f + "1:1: entry 'bash' has no 'Version' field");
  EXPECT_EQ(error_of(std::string(kGood) + "\n\nVersion: 1\nStatus: install ok unpacked\n"
                                          "Architecture: all\n"),
            f + "7:1: entry has no 'Package' field");
  EXPECT_EQ(error_of("Package: bash\nVersion: 1\nArchitecture: amd64\n"),
            f + "1:1: entry 'bash' has no 'Status' field");
  EXPECT_EQ(error_of("Package: Bash\nStatus: install ok unpacked\nVersion: 1\nArchitecture: x\n"),
            f + "1:10: not a Debian package name: 'Bash'");
  EXPECT_EQ(error_of("Package: bash\nStatus: install ok unpacked\nVersion:  1 2\n"
                     "Architecture: amd64\n"),
            f + "3:11: not a Debian version: '1 2'");
  EXPECT_EQ(error_of("Package: bash\nStatus: install ok unpacked\nVersion: 1\n"
                     "Architecture: AMD64\n"),
            f + "4:15: not a Debian architecture: 'AMD64'");
  EXPECT_EQ(error_of("Package: bash\nStatus: install ok\nVersion: 1\nArchitecture: amd64\n"),
            f + "2:9: Status must be 'WANT ok|reinstreq STATE' (e.g. 'install ok unpacked'), got "
                "'install ok'");
  EXPECT_EQ(error_of(std::string(kGood) + "\n" + kGood),
            f + "6:10: package 'bash:amd64' listed twice (first at line 1)");
  EXPECT_EQ(error_of(std::string("Package: b\0sh\n", 14)), f + "1:11: NUL byte");
}

}  // namespace
}  // namespace cairn::image
