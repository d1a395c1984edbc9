#include "init/main/options.h"

#include <gtest/gtest.h>

namespace cairn::init {
namespace {

MainOptions parse(std::vector<const char*> args, bool strict = true) {
  args.insert(args.begin(), "cairn-init");
  return parse_main_options(static_cast<int>(args.size()), args.data(), strict);
}

TEST(MainOptions, Defaults) {
  MainOptions o = parse({});
  EXPECT_TRUE(o.error.empty());
  EXPECT_FALSE(o.check_dir);
  EXPECT_EQ(o.services, "/etc/cairn/services");
  EXPECT_EQ(o.run_dir, "/run/cairn");
  EXPECT_EQ(o.control_socket_path(), "/run/cairn/control.sock");
  EXPECT_FALSE(o.cgroup_root);
  EXPECT_FALSE(o.log_dir);
}

TEST(MainOptions, EveryFlagBothSpellings) {
  MainOptions o = parse({"--services", "/s", "--run-dir=/r", "--cgroup-root", "/c", "--log-dir=/l",
                         "--control-socket", "/x.sock"});
  ASSERT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.services, "/s");
  EXPECT_EQ(o.run_dir, "/r");
  EXPECT_EQ(*o.cgroup_root, "/c");
  EXPECT_EQ(*o.log_dir, "/l");
  EXPECT_EQ(o.control_socket_path(), "/x.sock");
  EXPECT_EQ(*parse({"--check", "/dir"}).check_dir, "/dir");
  EXPECT_EQ(parse({"--run-dir", "/q"}).control_socket_path(), "/q/control.sock");
}

TEST(MainOptions, ErrorsWhenStrict) {
  EXPECT_EQ(parse({"--check"}).error, "--check needs a value");
  EXPECT_EQ(parse({"--services="}).error, "--services needs a non-empty value");
  EXPECT_EQ(parse({"--bogus"}).error, "unknown argument '--bogus'");
  EXPECT_EQ(parse({"single"}).error, "unknown argument 'single'");
}

TEST(MainOptions, AsPid1UnknownArgumentsAreCollected) {
  MainOptions o = parse({"single", "--services", "/s", "nomodeset"}, /*strict=*/false);
  EXPECT_TRUE(o.error.empty());
  EXPECT_EQ(o.ignored, (std::vector<std::string>{"single", "nomodeset"}));
  EXPECT_EQ(o.services, "/s");
}

}  // namespace
}  // namespace cairn::init
