#include "init/config/args_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace cairn::init {
namespace {

using Args = std::vector<std::string>;

TEST(ArgsFile, OneArgumentPerLine) {
  EXPECT_EQ(parse_args_text("--a=1\n  --b=2  \n\n# comment\n   # indented comment\n--c\r\n"),
            (Args{"--a=1", "--b=2", "--c"}));
  EXPECT_EQ(parse_args_text("--last-without-newline"), Args{"--last-without-newline"});
  EXPECT_EQ(parse_args_text(""), Args{});
  EXPECT_EQ(parse_args_text("\n\n \t\n"), Args{});
  EXPECT_EQ(parse_args_text("--flag value with spaces\n"), Args{"--flag value with spaces"});
}

TEST(ArgsFile, QuotedValuesLoseTheirQuotes) {
  EXPECT_EQ(parse_args_text("--name=\"a b\"\n--x=\"\"\n--y=\"unbalanced\n"),
            (Args{"--name=a b", "--x=", "--y=\"unbalanced"}));
}

TEST(ArgsFile, MissingFileIsEmpty) {
  auto result = read_args_file("/nonexistent/cairn/args");
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_TRUE(result.args.empty());
  EXPECT_TRUE(read_args_file("").ok());
}

TEST(ArgsFile, ReadsFile) {
  char dir[] = "/tmp/cairn-args-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/kubelet";
  std::ofstream(path) << "# kubelet flags\n--node-ip=10.0.0.2\n--v=2\n";
  auto result = read_args_file(path);
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.args, (Args{"--node-ip=10.0.0.2", "--v=2"}));
  // A directory is not an args file: an error, not silently nothing.
  auto dir_result = read_args_file(dir);
  EXPECT_FALSE(dir_result.ok());
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace cairn::init
