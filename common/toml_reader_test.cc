#include "common/toml_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace cairn {
namespace {

struct Parsed {
  std::vector<Diagnostic> diags;
  std::optional<toml::table> root;
};

Parsed parse(std::string_view text) {
  Parsed p;
  p.root = parse_toml(text, "t.toml", p.diags);
  return p;
}

TEST(TomlReader, SyntaxErrorHasPosition) {
  auto p = parse("a = 1\nb = [1,\nc = \n");
  ASSERT_FALSE(p.root);
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_EQ(p.diags[0].file, "t.toml");
  EXPECT_GE(p.diags[0].line, 2);
  EXPECT_GT(p.diags[0].column, 0);
  EXPECT_NE(p.diags[0].str().find("invalid TOML"), std::string::npos);
}

TEST(TomlReader, MissingFile) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(parse_toml_file("/nonexistent/x.toml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].str(), "/nonexistent/x.toml: error: cannot read: No such file or directory");
}

TEST(TomlReader, ReadsFile) {
  char path[] = "/tmp/cairn-toml-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = "x = \"y\"\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  std::vector<Diagnostic> diags;
  auto root = parse_toml_file(path, diags);
  unlink(path);
  ASSERT_TRUE(root);
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ((*root)["x"].value<std::string>(), "y");
}

TEST(TomlReader, TypedAccessors) {
  auto p = parse(
      "s = \"text\"\n"
      "b = true\n"
      "i = 42\n"
      "arr = [\"a\", \"b\"]\n"
      "[sub]\n"
      "d = \"1h30m\"\n");
  ASSERT_TRUE(p.root);
  TomlReader reader("t.toml", p.diags);
  TomlSection top(reader, *p.root);
  EXPECT_EQ(top.string("s"), "text");
  EXPECT_EQ(top.boolean("b"), true);
  EXPECT_EQ(top.integer("i", 0, 100), 42);
  EXPECT_EQ(top.string_array("arr"), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(top.string("absent"));
  auto sub = top.table("sub");
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->path(), "sub");
  EXPECT_EQ(sub->duration("d"), std::chrono::milliseconds(5'400'000));
  EXPECT_EQ(reader.errors(), 0u);
  EXPECT_TRUE(p.diags.empty());
}

TEST(TomlReader, WrongTypesPointAtTheValue) {
  auto p = parse(
      "s = 1\n"
      "b = \"yes\"\n"
      "i = 500\n"
      "arr = [\"a\", 2]\n"
      "[sub]\n"
      "d = \"10\"\n"
      "t = 3\n");
  ASSERT_TRUE(p.root);
  TomlReader reader("t.toml", p.diags);
  TomlSection top(reader, *p.root);
  EXPECT_FALSE(top.string("s"));
  EXPECT_FALSE(top.boolean("b"));
  EXPECT_FALSE(top.integer("i", 0, 100));
  EXPECT_FALSE(top.string_array("arr"));
  EXPECT_FALSE(top.table("s"));
  auto sub = top.table("sub");
  ASSERT_TRUE(sub);
  EXPECT_FALSE(sub->duration("d"));
  ASSERT_EQ(p.diags.size(), 6u);
  EXPECT_EQ(p.diags[0].str(), "t.toml:1:5: error: s: expected a string, got an integer");
  EXPECT_EQ(p.diags[1].str(), "t.toml:2:5: error: b: expected true or false, got a string");
  EXPECT_EQ(p.diags[2].str(), "t.toml:3:5: error: i: value 500 is out of range 0..100");
  EXPECT_EQ(p.diags[3].str(),
            "t.toml:4:13: error: arr: expected an array of strings, but an element is an "
            "integer");
  EXPECT_EQ(p.diags[4].str(), "t.toml:1:5: error: s: expected a table, got an integer");
  EXPECT_EQ(p.diags[5].line, 6);
  EXPECT_NE(p.diags[5].message.find("sub.d: duration \"10\" needs a unit"), std::string::npos);
  EXPECT_EQ(reader.errors(), 6u);
}

TEST(TomlReader, UnknownKeysWithSuggestion) {
  auto p = parse(
      "descripton = \"x\"\n"
      "exec = []\n"
      "[restart]\n"
      "  polcy = \"always\"\n"
      "  zzzzzz = 1\n");
  ASSERT_TRUE(p.root);
  TomlReader reader("t.toml", p.diags);
  TomlSection top(reader, *p.root);
  EXPECT_FALSE(top.check_keys({"description", "exec", "restart"}));
  auto restart = top.table("restart");
  ASSERT_TRUE(restart);
  EXPECT_FALSE(restart->check_keys({"policy", "delay"}));
  ASSERT_EQ(p.diags.size(), 3u);
  EXPECT_EQ(p.diags[0].str(),
            "t.toml:1:1: error: unknown key \"descripton\"; did you mean \"description\"?");
  EXPECT_EQ(p.diags[1].str(),
            "t.toml:4:3: error: unknown key \"polcy\" in [restart]; did you mean \"policy\"?");
  EXPECT_EQ(p.diags[2].str(), "t.toml:5:3: error: unknown key \"zzzzzz\" in [restart]");
}

TEST(TomlReader, KnownKeysPass) {
  auto p = parse("a = 1\nb = 2\n");
  TomlReader reader("t.toml", p.diags);
  TomlSection top(reader, *p.root);
  EXPECT_TRUE(top.check_keys({"a", "b", "c"}));
  EXPECT_TRUE(p.diags.empty());
}

TEST(TomlReader, DidYouMean) {
  EXPECT_EQ(did_you_mean("memory-mx", {"memory-max", "memory-high"}), "memory-max");
  EXPECT_EQ(did_you_mean("xyz", {"memory-max", "memory-high"}), "");
  EXPECT_EQ(did_you_mean("a", {}), "");
}

TEST(TomlReader, StringChecked) {
  auto p = parse("x = \"bad\"\ny = \"good\"\n");
  TomlReader reader("t.toml", p.diags);
  TomlSection top(reader, *p.root);
  auto check = [](const std::string& v) { return v == "good" ? "" : std::string("not good"); };
  EXPECT_FALSE(top.string_checked("x", check));
  EXPECT_EQ(top.string_checked("y", check), "good");
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_EQ(p.diags[0].str(), "t.toml:1:5: error: x: not good");
}

}  // namespace
}  // namespace cairn
