#include "image/recipe/recipe.h"

#include <gtest/gtest.h>

#include <fstream>

namespace cairn::image {
namespace {

namespace fs = std::filesystem;

const char* kGood = R"([image]
name = "qemu-x86_64"
version = "0.1.0"
arch = "x86_64"
board = "uefi"
formats = ["raw", "qcow2", "sd-zst"]

[packages]
suite = "bookworm"
list = ["bash", "util-linux"]

[kernel]
package = "linux-image-amd64"
modules = ["virtio_blk", "dm-verity"]
cmdline = "quiet"

[partitions]
boot = "128M"
root = "512M"
data = "256M"

[services]
enabled = ["getty"]
dirs = ["services"]

[node]
hostname = "cairn"
)";

std::vector<Diagnostic> parse(const std::string& text) {
  std::vector<Diagnostic> diags;
  parse_recipe_text(text, "/r/x.toml", diags);
  return diags;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

TEST(Recipe, GoodRecipeParses) {
  std::vector<Diagnostic> diags;
  auto r = parse_recipe_text(kGood, "/r/recipes/x.toml", diags);
  ASSERT_TRUE(r) << to_string(diags);
  EXPECT_EQ(r->name, "qemu-x86_64");
  EXPECT_EQ(r->arch, Arch::kX86_64);
  EXPECT_EQ(r->board, Board::kUefi);
  EXPECT_EQ(r->formats.size(), 3u);
  EXPECT_TRUE(r->has_format(OutputFormat::kSdZst));
  EXPECT_EQ(r->packages, (std::vector<std::string>{"bash", "util-linux"}));
  EXPECT_EQ(r->components, (std::vector<std::string>{"main"}));
  EXPECT_EQ(r->root_size, 512u << 20);
  EXPECT_EQ(r->boot_modules.size(), 2u);
  ASSERT_EQ(r->service_dirs.size(), 1u);
  EXPECT_EQ(r->service_dirs[0], fs::path("/r/recipes/services"));
  EXPECT_NE(r->node_toml.find("hostname = \"cairn\""), std::string::npos) << r->node_toml;
  EXPECT_EQ(r->effective_seed(), "qemu-x86_64-0.1.0");
  EXPECT_EQ(r->source_date_epoch, 1704067200);
  EXPECT_TRUE(r->extra_sources.empty());
  EXPECT_EQ(r->root_compression, "none");
  EXPECT_EQ(r->root_compress_files, "all");
  r = parse_recipe_text(replace(kGood, "board = \"uefi\"",
                                "board = \"uefi\"\nroot-compression = \"lz4hc\"\n"
                                "root-compress-files = \"boot\""),
                        "/r/recipes/x.toml", diags);
  ASSERT_TRUE(r) << to_string(diags);
  EXPECT_EQ(r->root_compression, "lz4hc");
  EXPECT_EQ(r->root_compress_files, "boot");
  r = parse_recipe_text(
      replace(kGood, "suite = \"bookworm\"",
              "suite = \"bookworm\"\nextra-sources = [\"http://deb.debian.org/debian-security "
              "bookworm-security\"]"),
      "/r/recipes/x.toml", diags);
  ASSERT_TRUE(r) << to_string(diags);
  EXPECT_EQ(r->extra_sources,
            (std::vector<std::string>{"http://deb.debian.org/debian-security bookworm-security"}));
}

struct BadCase {
  const char* what;
  std::string text;
  std::string expected;  // the whole first diagnostic, "file:line:col: error: message"
};

TEST(Recipe, BadRecipesNameFileLineColumnAndReason) {
  const std::vector<BadCase> cases = {
      {"syntax", replace(kGood, "suite = \"bookworm\"", "suite = "),
       "/r/x.toml:9:9: error: invalid TOML: Error while parsing key-value pair"},
      {"unknown top-level key", std::string(kGood) + "[extra]\n",
       "/r/x.toml:28:2: error: unknown key \"extra\""},
      {"unknown key with suggestion", replace(kGood, "version = ", "verison = "),
       "/r/x.toml:3:1: error: unknown key \"verison\" in [image]; did you mean \"version\"?"},
      {"missing required key", replace(kGood, "version = \"0.1.0\"\n", ""),
       "/r/x.toml:1:1: error: image.version: missing required key"},
      {"missing table",
       replace(kGood, "[partitions]\nboot = \"128M\"\nroot = \"512M\"\ndata = \"256M\"\n", ""),
       "/r/x.toml: error: missing required table [partitions]"},
      {"bad arch", replace(kGood, "arch = \"x86_64\"", "arch = \"riscv\""),
       "/r/x.toml:4:8: error: image.arch: must be \"x86_64\" or \"arm64\""},
      {"rpi on x86", replace(kGood, "board = \"uefi\"", "board = \"rpi\""),
       "/r/x.toml:5:9: error: image.board: board \"rpi\" needs arch = \"arm64\""},
      {"bad type", replace(kGood, "version = \"0.1.0\"", "version = 1"),
       "/r/x.toml:3:11: error: image.version: expected a string, got an integer"},
      {"bad format", replace(kGood, "\"qcow2\"", "\"vmdk\""),
       "/r/x.toml:6:19: error: image.formats: unknown format \"vmdk\" (raw, qcow2, sd-zst)"},
      {"bad name", replace(kGood, "name = \"qemu-x86_64\"", "name = \"Qemu X\""),
       "/r/x.toml:2:8: error: image.name: must be 1-63 of a-z, 0-9, '_' and '-', starting with "
       "a letter or digit"},
      {"bad size unit", replace(kGood, "root = \"512M\"", "root = \"512Q\""),
       "/r/x.toml:19:8: error: partitions.root: unknown size unit"},
      {"unaligned size", replace(kGood, "root = \"512M\"", "root = \"1000K\""),
       "/r/x.toml:19:8: error: partitions.root: must be a whole number of MiB (e.g. \"512M\")"},
      {"too small boot", replace(kGood, "boot = \"128M\"", "boot = \"16M\""),
       "/r/x.toml:18:8: error: partitions.boot: too small: at least 64M"},
      {"size as integer", replace(kGood, "data = \"256M\"", "data = 256"),
       "/r/x.toml:20:8: error: partitions.data: expected a string, got an integer"},
      {"duplicate package", replace(kGood, "[\"bash\", \"util-linux\"]", "[\"bash\", \"bash\"]"),
       "/r/x.toml:10:17: error: packages.list: \"bash\" is listed twice"},
      {"bad package name", replace(kGood, "\"util-linux\"", "\"Util Linux\""),
       "/r/x.toml:10:17: error: packages.list: \"Util Linux\" is not a Debian package name"},
      {"empty package list", replace(kGood, "[\"bash\", \"util-linux\"]", "[]"),
       "/r/x.toml:10:8: error: packages.list: must list at least one package"},
      {"generated cmdline key", replace(kGood, "cmdline = \"quiet\"", "cmdline = \"cairn.root=x\""),
       "/r/x.toml:15:11: error: kernel.cmdline: cairn.root and cairn.verity.* are generated by "
       "the builder"},
      {"bad module", replace(kGood, "\"dm-verity\"", "\"dm verity\""),
       "/r/x.toml:14:26: error: kernel.modules: \"dm verity\" is not a module name"},
      {"bad artifact hash",
       std::string(kGood) +
           "[artifacts.k]\npath = \"k\"\nsha256 = \"abc\"\ndestination = \"/usr/bin/k\"\n",
       "/r/x.toml:30:10: error: artifacts.k.sha256: must be 64 lower-case hex digits"},
      {"artifact missing destination",
       std::string(kGood) + "[artifacts.k]\npath = \"k\"\nsha256 = \"" + std::string(64, 'a') +
           "\"\n",
       "/r/x.toml:28:1: error: artifacts.k.destination: missing required key"},
      {"bad component",
       replace(kGood, "suite = \"bookworm\"", "suite = \"bookworm\"\ncomponents = [\"free\"]"),
       "/r/x.toml:10:15: error: packages.components: unknown component \"free\""},
      {"bad extra source",
       replace(kGood, "suite = \"bookworm\"",
               "suite = \"bookworm\"\nextra-sources = [\"deb.debian.org bookworm-security\"]"),
       "/r/x.toml:10:18: error: packages.extra-sources: \"deb.debian.org bookworm-security\" is "
       "not \"URL SUITE\""},
      {"negative epoch",
       replace(kGood, "board = \"uefi\"", "board = \"uefi\"\nsource-date-epoch = -1"),
       "/r/x.toml:6:21: error: image.source-date-epoch: "},
      {"bad root-compress-files",
       replace(kGood, "board = \"uefi\"", "board = \"uefi\"\nroot-compress-files = \"hot\""),
       "/r/x.toml:6:23: error: image.root-compress-files: must be \"all\" or \"boot\""},
  };
  for (const auto& c : cases) {
    auto diags = parse(c.text);
    ASSERT_FALSE(diags.empty()) << c.what;
    std::string got = diags[0].str();
    EXPECT_EQ(got.substr(0, c.expected.size()), c.expected) << c.what << "\n got: " << got;
  }
}

TEST(Recipe, AllErrorsAreReportedAtOnce) {
  auto text =
      replace(replace(kGood, "arch = \"x86_64\"", "arch = 1"), "root = \"512M\"", "root = \"x\"");
  auto diags = parse(text);
  EXPECT_GE(diags.size(), 2u) << to_string(diags);
}

TEST(Recipe, RpiNeedsNonFreeFirmware) {
  auto text = replace(replace(kGood, "arch = \"x86_64\"", "arch = \"arm64\""), "board = \"uefi\"",
                      "board = \"rpi\"");
  auto diags = parse(text);
  ASSERT_EQ(diags.size(), 1u) << to_string(diags);
  EXPECT_NE(diags[0].message.find("non-free-firmware"), std::string::npos);
  text = replace(text, "suite = \"bookworm\"",
                 "suite = \"bookworm\"\ncomponents = [\"main\", \"non-free-firmware\"]");
  EXPECT_TRUE(parse(text).empty()) << to_string(parse(text));
}

class RecipeFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-recipe-test-" + std::to_string(getpid()));
    fs::create_directories(dir_ / "recipes/services");
    fs::create_directories(dir_ / "overlays/base");
    std::ofstream(dir_ / "recipes/services/getty.toml") << "exec = [\"/sbin/agetty\"]\n";
    std::ofstream(dir_ / "blob") << "abc";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& text) {
    fs::path f = dir_ / "recipes/r.toml";
    std::ofstream(f) << text;
    return f;
  }
  fs::path dir_;
};

TEST_F(RecipeFiles, InputsThatExistValidate) {
  std::string text = std::string(kGood) + "[overlays]\ndirs = [\"../overlays/base\"]\n" +
                     "[artifacts.blob]\npath = \"../blob\"\nsha256 = "
                     "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\n"
                     "destination = \"/usr/share/blob\"\nmode = \"0600\"\n";
  std::vector<Diagnostic> diags;
  auto r = parse_recipe_file(write(text), diags);
  ASSERT_TRUE(r) << to_string(diags);
  EXPECT_TRUE(validate_recipe_inputs(*r, diags)) << to_string(diags);
  ASSERT_EQ(r->artifacts.size(), 1u);
  EXPECT_EQ(r->artifacts[0].mode, 0600u);
  EXPECT_EQ(r->artifacts[0].source, dir_ / "blob");
  EXPECT_EQ(find_service_file(*r, "getty"), dir_ / "recipes/services/getty.toml");
}

TEST_F(RecipeFiles, MissingInputsPointAtTheirKeys) {
  std::string text = replace(kGood, "enabled = [\"getty\"]", "enabled = [\"getty\", \"nope\"]") +
                     "[overlays]\ndirs = [\"../overlays/missing\"]\n" +
                     "[artifacts.blob]\npath = \"../blob\"\nsha256 = \"" + std::string(64, '0') +
                     "\"\ndestination = \"/usr/share/blob\"\n";
  std::vector<Diagnostic> diags;
  auto r = parse_recipe_file(write(text), diags);
  ASSERT_TRUE(r) << to_string(diags);
  EXPECT_FALSE(validate_recipe_inputs(*r, diags));
  std::string all = to_string(diags);
  std::string f = (dir_ / "recipes/r.toml").string();
  EXPECT_NE(all.find(f + ":29:9: error: overlays.dirs[0]: no such directory"), std::string::npos)
      << all;
  EXPECT_NE(all.find(f + ":23:21: error: services.enabled[1]: no service file nope.toml"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find(f + ":32:10: error: artifacts.blob.sha256: mismatch"), std::string::npos)
      << all;
}

TEST_F(RecipeFiles, UnreadableFile) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(parse_recipe_file(dir_ / "absent.toml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].str().find("absent.toml: error: cannot read"), std::string::npos);
}

}  // namespace
}  // namespace cairn::image
