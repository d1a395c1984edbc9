#include "init/system/kernel_cmdline.h"

#include <gtest/gtest.h>

namespace cairn::init::system {
namespace {

TEST(KernelCmdline, KeysValuesAndFlags) {
  auto c = KernelCmdline::parse(
      "BOOT_IMAGE=/vmlinuz root=PARTLABEL=cairn-root-a ro quiet cairn.crash=reboot\n");
  EXPECT_EQ(c.get("BOOT_IMAGE"), "/vmlinuz");
  EXPECT_EQ(c.get("root"), "PARTLABEL=cairn-root-a");  // only the first '=' splits
  EXPECT_EQ(c.get("quiet"), "");
  EXPECT_TRUE(c.has("ro"));
  EXPECT_FALSE(c.has("cairn.slot"));
  EXPECT_EQ(c.get("cairn.crash"), "reboot");
  ASSERT_EQ(c.all().size(), 5u);
  EXPECT_FALSE(c.all()[2].value.has_value());
}

TEST(KernelCmdline, QuotedValuesAndWords) {
  auto c = KernelCmdline::parse("a=\"hello world\" \"b=x y\" c=\"\" d=pre\"mid dle\"post");
  EXPECT_EQ(c.get("a"), "hello world");
  EXPECT_EQ(c.get("b"), "x y");
  EXPECT_EQ(c.get("c"), "");
  EXPECT_EQ(c.get("d"), "premid dlepost");
}

TEST(KernelCmdline, LaterDuplicateWins) {
  auto c = KernelCmdline::parse("console=tty0 console=ttyS0,115200");
  EXPECT_EQ(c.get("console"), "ttyS0,115200");
  EXPECT_EQ(c.all().size(), 2u);
}

TEST(KernelCmdline, ArgumentsAfterDoubleDashBelongToInit) {
  auto c = KernelCmdline::parse("quiet -- single x=1");
  EXPECT_TRUE(c.has("quiet"));
  EXPECT_FALSE(c.has("single"));
  EXPECT_FALSE(c.has("x"));
  ASSERT_EQ(c.init_args().size(), 2u);
  EXPECT_EQ(c.init_args()[0], "single");
  EXPECT_EQ(c.init_args()[1], "x=1");
}

TEST(KernelCmdline, OddInputNeverFails) {
  EXPECT_TRUE(KernelCmdline::parse("").all().empty());
  EXPECT_TRUE(KernelCmdline::parse(" \t\n ").all().empty());
  auto c = KernelCmdline::parse("a=\"unterminated value");
  EXPECT_EQ(c.get("a"), "unterminated value");
  auto e = KernelCmdline::parse("=value ==");
  EXPECT_EQ(e.get(""), "=");  // later duplicate of the empty key
  auto n = KernelCmdline::parse(std::string("x=1\0y=2", 7));
  EXPECT_EQ(n.get("x"), "1");
  EXPECT_EQ(n.get("y"), "2");
}

TEST(KernelCmdline, ReadsProcCmdline) {
  // Whatever the host booted with: it must parse and not be empty.
  auto c = KernelCmdline::read();
  EXPECT_FALSE(c.all().empty());
  EXPECT_TRUE(KernelCmdline::read("/nonexistent/cmdline").all().empty());
}

}  // namespace
}  // namespace cairn::init::system
