#include "image/boot/boot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "image/boot/console_watch.h"

namespace cairn::image {
namespace {
namespace fs = std::filesystem;

class BootArgs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("boot_test." + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "disk.img") << std::string(4096, '\0');
    std::ofstream(dir_ / "disk.qcow2") << "QFI\xfb" << std::string(100, '\0');
    std::ofstream(dir_ / "vmlinuz") << "k";
    std::ofstream(dir_ / "pi.dtb") << "d";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string p(const char* name) { return (dir_ / name).string(); }
  bool has(const std::vector<std::string>& cmd, const std::string& s) {
    return std::find(cmd.begin(), cmd.end(), s) != cmd.end();
  }
  std::string after(const std::vector<std::string>& cmd, const std::string& s) {
    auto it = std::find(cmd.begin(), cmd.end(), s);
    return it == cmd.end() || it + 1 == cmd.end() ? "" : *(it + 1);
  }
  fs::path dir_;
};

TEST_F(BootArgs, DefaultsAndBatchX86) {
  auto o = parse_boot_args({p("disk.img"), "--batch", "--timeout", "90", "--memory", "768"});
  EXPECT_EQ(o.arch, "x86_64");
  EXPECT_TRUE(o.batch);
  EXPECT_EQ(o.timeout_seconds, 90);
  auto cmd = qemu_command(o, "/tmp/q.sock", "/tmp/vars.fd");
  EXPECT_EQ(cmd[0], "qemu-system-x86_64");
  EXPECT_EQ(after(cmd, "-accel"), "tcg");
  EXPECT_EQ(after(cmd, "-M"), "q35");
  EXPECT_EQ(after(cmd, "-m"), "768");
  EXPECT_NE(std::find_if(cmd.begin(), cmd.end(),
                         [](const std::string& s) {
                           return s.find("if=pflash") != std::string::npos &&
                                  s.find("readonly=on") != std::string::npos &&
                                  s.find("OVMF_CODE") != std::string::npos;
                         }),
            cmd.end());
  EXPECT_TRUE(has(cmd, "if=pflash,format=raw,unit=1,file=/tmp/vars.fd"));
  EXPECT_TRUE(has(cmd, "file=" + p("disk.img") + ",format=raw,if=virtio,cache=unsafe"));
  EXPECT_EQ(after(cmd, "-qmp"), "unix:/tmp/q.sock,server=on,wait=off");
  EXPECT_EQ(after(cmd, "-serial"), "stdio");
  EXPECT_FALSE(has(cmd, "-nographic"));
}

TEST_F(BootArgs, Arm64DirectBootAndQcow2) {
  auto o = parse_boot_args({p("disk.qcow2"), "--arch", "arm64", "--kernel", p("vmlinuz"),
                            "--append", "console=ttyAMA0", "--snapshot", "--", "-s"});
  auto cmd = qemu_command(o, "q", "v");
  EXPECT_EQ(cmd[0], "qemu-system-aarch64");
  EXPECT_EQ(after(cmd, "-M"), "virt");
  EXPECT_EQ(after(cmd, "-kernel"), p("vmlinuz"));
  EXPECT_EQ(after(cmd, "-append"), "console=ttyAMA0");
  EXPECT_TRUE(has(cmd, "-snapshot"));
  EXPECT_TRUE(has(cmd, "-nographic"));
  EXPECT_EQ(cmd.back(), "-s");
  EXPECT_TRUE(has(cmd, "file=" + p("disk.qcow2") + ",format=qcow2,if=virtio,cache=unsafe"));
  for (const auto& a : cmd) EXPECT_EQ(a.find("pflash"), std::string::npos);  // no firmware
}

TEST_F(BootArgs, RpiUsesRaspi3bAndTheSdCard) {
  auto o = parse_boot_args(
      {p("disk.img"), "--arch", "rpi", "--kernel", p("vmlinuz"), "--dtb", p("pi.dtb"), "--batch"});
  auto cmd = qemu_command(o, "q", "v");
  EXPECT_EQ(after(cmd, "-M"), "raspi3b");
  EXPECT_EQ(after(cmd, "-dtb"), p("pi.dtb"));
  EXPECT_TRUE(has(cmd, "file=" + p("disk.img") + ",format=raw,if=sd"));
  EXPECT_FALSE(has(cmd, "-m"));
}

TEST_F(BootArgs, BadArgumentsAreNamed) {
  auto error_of = [&](std::vector<std::string> args) -> std::string {
    try {
      parse_boot_args(args);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of({}).find("missing IMAGE"), std::string::npos);
  EXPECT_NE(error_of({p("nope.img")}).find("no such image"), std::string::npos);
  EXPECT_NE(error_of({p("disk.img"), "--arch", "riscv"}).find("--arch"), std::string::npos);
  EXPECT_NE(error_of({p("disk.img"), "--timeout", "soon"}).find("--timeout"), std::string::npos);
  EXPECT_NE(error_of({p("disk.img"), "--timeout"}).find("missing value"), std::string::npos);
  EXPECT_NE(error_of({p("disk.img"), "--arch", "rpi"}).find("--dtb"), std::string::npos);
  EXPECT_NE(error_of({p("disk.img"), "--append", "x"}).find("--kernel"), std::string::npos);
  EXPECT_NE(error_of({p("disk.img"), "--frobnicate"}).find("--frobnicate"), std::string::npos);
  EXPECT_NE(error_of({p("disk.img"), p("disk.img")}).find("one IMAGE"), std::string::npos);
  EXPECT_EQ(boot_main({"--bogus"}), 2);
}

TEST(ConsoleWatch, ReadyTimelineAndFailures) {
  ConsoleWatch w(default_fail_patterns(), 3);
  w.feed("\x1b[2J\x1b[01;01H[    0.000000] Linux version 6.1\r");
  EXPECT_EQ(w.last_lines().back(), "[    0.000000] Linux version 6.1");
  w.feed("cairn-init: node ready in soon ms");  // not a number: ignored
  EXPECT_EQ(w.state(), ConsoleWatch::State::kBooting);
  w.feed("cairn-init: node ready in 8123 ms");
  EXPECT_EQ(w.state(), ConsoleWatch::State::kReady);
  EXPECT_EQ(w.ready_ms(), 8123);
  w.feed("  getty-ttyS0  started 7001 ms  ready 7002 ms");
  w.feed("cairn-stage1: FAILED: nothing");  // after ready: just timeline
  EXPECT_EQ(w.timeline().size(), 2u);
  EXPECT_EQ(w.last_lines().size(), 3u);

  ConsoleWatch f(default_fail_patterns());
  f.feed("[   10.062310] cairn-stage1: FAILED: mount root: Input/output error");
  EXPECT_EQ(f.state(), ConsoleWatch::State::kFailed);
  EXPECT_NE(f.failure().find("mount root"), std::string::npos);
  f.feed("cairn-init: node ready in 1 ms");
  EXPECT_EQ(f.state(), ConsoleWatch::State::kFailed);
}

}  // namespace
}  // namespace cairn::image
