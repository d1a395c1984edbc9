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

namespace cairn {
namespace {

TEST(TomlReader, NonAsciiOnlyInStringsAndComments) {
  // Accepted: UTF-8 in strings (all four kinds) and comments.
  auto ok = parse(
      "# café\n"
      "a = \"héllo \\\" wörld\" # ünïcode\n"
      "b = 'ñ'\n"
      "c = \"\"\"\nmulti é \\\\ \\\"\n\"\"\"\"\n"
      "d = '''\nlit ü\n'''\n");
  ASSERT_TRUE(ok.root) << to_string(ok.diags);
  EXPECT_EQ((*ok.root)["a"].value<std::string>(), "héllo \" wörld");
  // Rejected with a position (toml++ 3.3 has undefined behaviour on these).
  struct Case {
    const char* text;
    int line, column;
  };
  const Case bad[] = {
      {"pidsé = 1\n", 1, 5},
      {"a = 1 é\n", 1, 7},
      {"x = 1\n[tablé]\n", 2, 6},
      {"a = \"\"\"x\\\n   é\"\"\"\n", 2, 4},
      {"a = \"\"\"x\\é\"\"\"\n", 1, 10},
  };
  for (const auto& c : bad) {
    auto p = parse(c.text);
    EXPECT_FALSE(p.root) << c.text;
    ASSERT_EQ(p.diags.size(), 1u) << c.text;
    EXPECT_EQ(p.diags[0].line, c.line) << c.text;
    EXPECT_EQ(p.diags[0].column, c.column) << c.text;
    EXPECT_NE(p.diags[0].message.find("non-ASCII"), std::string::npos);
  }
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

TEST(TomlReader, QuotesWhereNoStringMayStartDoNotHideNonAscii) {
  // toml++ reads `1"...` as one malformed value token; the scan must not treat `"` as a string.
  auto p = parse(
      "a = [1\"\xef\xbb\xbe"
      "e#]\n");
  EXPECT_FALSE(p.root);
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_NE(p.diags[0].message.find("non-ASCII"), std::string::npos);
  // Strings after '=', '[', ',', '{', '.' and at line starts (also after comments) are fine.
  auto ok = parse(
      "\"quoted key\" = [ # comment ü\n"
      "  \"é\",\n"
      "  'ü' ]\n"
      "t = { \"k\" = \"ß\" }\n"
      "[x.\"ö\"]\n");
  EXPECT_TRUE(ok.root) << to_string(ok.diags);
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

// Inputs found by fuzzing that made toml++ 3.3 reach __builtin_unreachable(); they must fail
// cleanly (the ASan+UBSan build of this test would report the undefined behaviour).
TEST(TomlReader, FuzzRegressions) {
  const std::string inputs[] = {
      std::string("e=+[\"/bin/\0\0memory\0\xc4\x9ax\t\n", 25),
      "exmax-fec = [1\"\xef\xbb\xbe"
      "e#]\n",
      "pids\xcb\x92"
      "ax = 1\n",
      "a = +[\"\xc3\xa9\n",
  };
  for (const auto& input : inputs) {
    auto p = parse(input);
    EXPECT_FALSE(p.root);
    EXPECT_EQ(p.diags.size(), 1u);
  }
}

}  // namespace
}  // namespace cairn
