#include "image/initramfs/initramfs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "image/initramfs/filter_process.h"
#include "image/initramfs/modinfo.h"

namespace cairn::image {
namespace {
namespace fs = std::filesystem;

// A minimal ELF64 little-endian relocatable object with a .modinfo section: the part of a
// kernel module read_modinfo looks at.
std::string fake_module(const std::string& modinfo) {
  const std::string shstrtab = std::string("\0.shstrtab\0.modinfo\0", 20);
  std::string elf(64, '\0');
  elf.replace(0, 4,
              "\x7f"
              "ELF");
  elf[4] = 2;  // 64-bit
  elf[5] = 1;  // little endian
  elf[6] = 1;
  const uint64_t strtab_off = elf.size();
  elf += shstrtab;
  const uint64_t modinfo_off = elf.size();
  elf += modinfo;
  while (elf.size() % 8) elf.push_back('\0');
  const uint64_t shoff = elf.size();
  auto put = [&](size_t at, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) elf[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(0x28, shoff, 8);
  put(0x3a, 64, 2);
  put(0x3c, 3, 2);
  put(0x3e, 1, 2);
  elf += std::string(64 * 3, '\0');
  put(shoff + 64 + 0x00, 1, 4);  // name ".shstrtab"
  put(shoff + 64 + 0x18, strtab_off, 8);
  put(shoff + 64 + 0x20, shstrtab.size(), 8);
  put(shoff + 128 + 0x00, 11, 4);  // name ".modinfo"
  put(shoff + 128 + 0x18, modinfo_off, 8);
  put(shoff + 128 + 0x20, modinfo.size(), 8);
  return elf;
}

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class InitramfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("initramfs_test." + std::to_string(::getpid()));
    fs::remove_all(dir_);
    const fs::path mods = dir_ / "root/lib/modules/6.1.0-test";
    write(mods / "kernel/drivers/md/dm-mod.ko",
          fake_module(std::string("name=dm_mod\0depends=\0", 21)));
    write(mods / "kernel/drivers/md/dm-verity.ko",
          fake_module(std::string("name=dm_verity\0depends=dm-mod\0", 30)));
    write(mods / "kernel/crypto/crc32c_generic.ko",
          fake_module(std::string("alias=crypto-crc32c\0name=crc32c_generic\0", 40)));
    write(mods / "modules.builtin", "kernel/fs/erofs/erofs.ko\n");
    // ext4 compressed as Debian's newer kernels ship them: must come out uncompressed.
    write(dir_ / "ext4.ko",
          fake_module(std::string("softdep=pre: crypto-crc32c\0name=ext4\0", 37)));
    run_filter({"xz", "-k", "-f", (dir_ / "ext4.ko").string()}, "");
    fs::create_directories(mods / "kernel/fs/ext4");
    fs::rename(dir_ / "ext4.ko.xz", mods / "kernel/fs/ext4/ext4.ko.xz");
    write(dir_ / "cairn-init",
          "\x7f"
          "ELFinit");
    request_.init_binary = dir_ / "cairn-init";
    request_.modules_root = dir_ / "root";
    request_.modules = {"ext4", "dm-verity", "erofs"};
    request_.source_date_epoch = 1700000000;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  InitramfsRequest request_;
};

TEST_F(InitramfsTest, ModinfoFallbackLayoutAndReproducible) {
  for (auto compression : {InitramfsCompression::kGzip, InitramfsCompression::kZstd}) {
    request_.compression = compression;
    request_.output = dir_ / "out/a.img";
    InitramfsResult a = build_initramfs(request_);
    request_.output = dir_ / "out/b.img";
    build_initramfs(request_);
    EXPECT_EQ(slurp(dir_ / "out/a.img"), slurp(dir_ / "out/b.img"));
    EXPECT_EQ(a.kernel_version, "6.1.0-test");
    EXPECT_EQ(a.builtin, (std::vector<std::string>{"erofs"}));
    EXPECT_EQ(a.module_paths,
              (std::vector<std::string>{"kernel/crypto/crc32c_generic.ko", "kernel/fs/ext4/ext4.ko",
                                        "kernel/drivers/md/dm-mod.ko",
                                        "kernel/drivers/md/dm-verity.ko"}));
    const std::string decompress = compression == InitramfsCompression::kGzip ? "gzip" : "zstd";
    std::string cpio = run_filter({decompress, "-dc"}, slurp(dir_ / "out/a.img"));
    std::string listing = run_filter({"cpio", "-it", "--quiet"}, cpio);
    for (const char* path :
         {"init\n", "etc/initrd-release\n", "etc/cairn/boot-modules\n", "dev/console\n",
          "sysroot\n", "lib/modules/6.1.0-test/kernel/fs/ext4/ext4.ko\n"}) {
      EXPECT_NE(listing.find(path), std::string::npos) << path << " in\n" << listing;
    }
    EXPECT_EQ(listing.find(".xz"), std::string::npos);
    std::string modules =
        run_filter({"cpio", "-i", "--quiet", "--to-stdout", "etc/cairn/boot-modules"}, cpio);
    // Each line names what it needs (ext4's crc32c softdep, dm-verity's dm-mod), so stage 1
    // can load ext4 beside dm-mod.
    EXPECT_NE(modules.find("kernel/crypto/crc32c_generic.ko:\n"
                           "kernel/fs/ext4/ext4.ko: kernel/crypto/crc32c_generic.ko\n"
                           "kernel/drivers/md/dm-mod.ko:\n"
                           "kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-mod.ko\n"),
              std::string::npos)
        << modules;
    std::string ext4 = run_filter(
        {"cpio", "-i", "--quiet", "--to-stdout", "lib/modules/6.1.0-test/kernel/fs/ext4/ext4.ko"},
        cpio);
    EXPECT_EQ(read_modinfo(ext4, "ext4")[1].second, "ext4");
  }
}

TEST_F(InitramfsTest, UsesModulesDepWhenPresent) {
  write(dir_ / "root/lib/modules/6.1.0-test/modules.dep",
        "kernel/fs/ext4/ext4.ko.xz:\nkernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-mod.ko\n"
        "kernel/drivers/md/dm-mod.ko:\n");
  request_.output = dir_ / "out.img";
  InitramfsResult r = build_initramfs(request_);
  // No modules.softdep: depmod's view has no crc32c softdep, so only what modules.dep says.
  EXPECT_EQ(r.module_paths,
            (std::vector<std::string>{"kernel/fs/ext4/ext4.ko", "kernel/drivers/md/dm-mod.ko",
                                      "kernel/drivers/md/dm-verity.ko"}));
}

TEST_F(InitramfsTest, ErrorsLeaveNoOutput) {
  request_.output = dir_ / "out.img";
  request_.modules.push_back("no-such-module");
  try {
    build_initramfs(request_);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-module"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(request_.output));
  EXPECT_FALSE(fs::exists(dir_ / "out.img.tmp"));
  request_.modules = {};
  request_.init_binary = dir_ / "missing";
  EXPECT_THROW(build_initramfs(request_), std::runtime_error);
  write(dir_ / "root/lib/modules/6.1.0-test/modules.dep", "garbage line\n");
  request_.init_binary = dir_ / "cairn-init";
  request_.modules = {"ext4"};
  try {
    build_initramfs(request_);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("modules.dep:1: "), std::string::npos) << e.what();
  }
}

TEST(Modinfo, RejectsGarbage) {
  EXPECT_THROW(read_modinfo("", "x"), std::runtime_error);
  EXPECT_THROW(read_modinfo("\x7f"
                            "ELF\x02\x01\x01",
                            "x"),
               std::runtime_error);
  std::string truncated = fake_module("a=b");
  truncated.resize(truncated.size() - 40);
  EXPECT_THROW(read_modinfo(truncated, "x"), std::runtime_error);
}

}  // namespace
}  // namespace cairn::image
