#include "image/initramfs/cpio_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "image/initramfs/filter_process.h"

namespace cairn::image {
namespace {

CpioArchive sample() {
  CpioArchive a;
  a.add_file("/init", 0755, "#!/bin/sh\necho hi\n");
  a.add_file("etc/cairn/boot-modules", 0644, "kernel/a.ko\n");
  a.add_symlink("/bin", "usr/bin");
  a.add_char_device("/dev/console", 0600, 5, 1);
  a.add_file("/lib/modules/6.1.0/kernel/odd.ko", 0644, std::string("x\0y", 3));
  return a;
}

TEST(CpioArchive, ListedByCpioInSortedOrder) {
  std::string bytes = sample().serialize(1700000000);
  std::string listing = run_filter({"cpio", "-it", "--quiet"}, bytes);
  EXPECT_EQ(listing,
            "bin\ndev\ndev/console\netc\netc/cairn\netc/cairn/boot-modules\ninit\nlib\n"
            "lib/modules\nlib/modules/6.1.0\nlib/modules/6.1.0/kernel\n"
            "lib/modules/6.1.0/kernel/odd.ko\n");
  std::string verbose = run_filter({"cpio", "-itv", "--quiet"}, bytes);
  EXPECT_NE(verbose.find("-rwxr-xr-x   1 root     root           18 "), std::string::npos)
      << verbose;
  EXPECT_NE(verbose.find("crw-------"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("bin -> usr/bin"), std::string::npos) << verbose;
}

TEST(CpioArchive, ExtractsToTheSameContents) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cpio_test." + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string bytes = sample().serialize(0);
  // cpio cannot create device nodes without privileges in every environment; skip them.
  std::string cmd = "cd " + dir.string() +
                    " && cpio -id --quiet --no-absolute-filenames "
                    "'init' 'etc/*' 'lib/*'";
  run_filter({"sh", "-c", cmd}, bytes);
  std::ifstream in(dir / "lib/modules/6.1.0/kernel/odd.ko", std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), std::string("x\0y", 3));
  EXPECT_EQ(fs::status(dir / "init").permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  fs::remove_all(dir);
}

TEST(CpioArchive, SameInputSameBytes) {
  CpioArchive b;  // added in another order
  b.add_file("/lib/modules/6.1.0/kernel/odd.ko", 0644, std::string("x\0y", 3));
  b.add_char_device("/dev/console", 0600, 5, 1);
  b.add_symlink("/bin", "usr/bin");
  b.add_file("etc/cairn/boot-modules", 0644, "kernel/a.ko\n");
  b.add_file("/init", 0755, "#!/bin/sh\necho hi\n");
  EXPECT_EQ(sample().serialize(42), b.serialize(42));
  EXPECT_NE(sample().serialize(42), b.serialize(43));
}

TEST(CpioArchive, HeaderFieldsAreNewcAndAligned) {
  CpioArchive a;
  a.add_file("/x", 0644, "abcde");
  std::string bytes = a.serialize(0x10);
  ASSERT_GE(bytes.size(), 110u);
  EXPECT_EQ(bytes.substr(0, 6), "070701");
  EXPECT_EQ(bytes.substr(6, 8), "00000001");   // inode
  EXPECT_EQ(bytes.substr(14, 8), "000081a4");  // S_IFREG | 0644
  EXPECT_EQ(bytes.substr(46, 8), "00000010");  // mtime
  EXPECT_EQ(bytes.substr(54, 8), "00000005");  // size
  EXPECT_EQ(bytes.substr(94, 8), "00000002");  // name size incl. NUL
  EXPECT_EQ(bytes.substr(112, 5), "abcde");    // 110 + "x\0" = 112, already aligned
  EXPECT_EQ(bytes.size() % 4, 0u);
  EXPECT_NE(bytes.find("TRAILER!!!"), std::string::npos);
}

TEST(CpioArchive, RejectsBadPathsAndConflicts) {
  CpioArchive a;
  EXPECT_THROW(a.add_file("/", 0644, ""), std::invalid_argument);
  EXPECT_THROW(a.add_file("/a/../b", 0644, ""), std::invalid_argument);
  EXPECT_THROW(a.add_file("a//b", 0644, ""), std::invalid_argument);
  a.add_file("/a", 0644, "");
  EXPECT_THROW(a.add_file("/a", 0644, ""), std::invalid_argument);
  EXPECT_THROW(a.add_file("/a/b", 0644, ""), std::invalid_argument);  // parent is a file
  a.add_directory("/d");
  a.add_directory("/d");  // the same directory twice is fine
  EXPECT_TRUE(a.contains("d"));
}

}  // namespace
}  // namespace cairn::image
