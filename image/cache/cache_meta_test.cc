#include "image/cache/cache_meta.h"

#include <gtest/gtest.h>

namespace cairn::image {
namespace {

std::string errors_of(const std::string& text) {
  std::vector<Diagnostic> diags;
  auto meta = parse_cache_meta(text, "x.meta", diags);
  EXPECT_FALSE(meta.has_value()) << text;
  return to_string(diags);
}

TEST(CacheMeta, RoundTrips) {
  CacheEntryMeta meta;
  meta.format = "cairn-rootfs-v2";
  meta.kind = CacheKind::kRootfsTree;
  meta.recipe = "qemu-x86_64";
  meta.debs_dir = "bookworm-amd64";
  meta.debs = {"bash_5.2.15-2+b13_amd64.deb", "libc6_2.36-9+deb12u9_amd64.deb"};
  std::vector<Diagnostic> diags;
  auto back = parse_cache_meta(format_cache_meta(meta), "x.meta", diags);
  ASSERT_TRUE(back) << to_string(diags);
  EXPECT_EQ(back->format, meta.format);
  EXPECT_EQ(back->kind, CacheKind::kRootfsTree);
  EXPECT_EQ(back->recipe, "qemu-x86_64");
  EXPECT_EQ(back->debs_dir, "bookworm-amd64");
  EXPECT_EQ(back->debs, meta.debs);
}

TEST(CacheMeta, CommentsBlankLinesAndCrlf) {
  std::vector<Diagnostic> diags;
  auto meta = parse_cache_meta("# c\r\n\r\n  format = f1 \r\nkind=initramfs\r\n", "m", diags);
  ASSERT_TRUE(meta) << to_string(diags);
  EXPECT_EQ(meta->format, "f1");
  EXPECT_EQ(meta->kind, CacheKind::kInitramfs);
}

TEST(CacheMeta, ErrorsNameLineAndColumn) {
  EXPECT_EQ(errors_of("format = f\nkind = rootfs\n  bogus = 1\n"),
            "x.meta:3:3: error: unknown key 'bogus' (format, kind, recipe, debs, deb)\n");
  EXPECT_EQ(errors_of("format = f\nkind = tarball\n"),
            "x.meta:2:8: error: unknown kind 'tarball' (rootfs, rootfs-tree, initramfs)\n");
  EXPECT_EQ(errors_of("format = f\nkind = rootfs\nno equals here\n"),
            "x.meta:3:1: error: expected 'key = value'\n");
  EXPECT_EQ(errors_of("kind = rootfs\n"), "x.meta: error: missing 'format'\n");
  EXPECT_EQ(errors_of("format = a\nformat = b\nkind = rootfs\n"),
            "x.meta:2:1: error: duplicate key 'format'\n");
  EXPECT_EQ(errors_of("format = f\nkind = rootfs\ndebs = d\ndeb = bash.tar\n"),
            "x.meta:4:7: error: 'deb' must name a .deb file\n");
  EXPECT_EQ(errors_of("format = f\nkind = rootfs\ndeb = a.deb\n"),
            "x.meta: error: 'deb' lines need 'debs' (their directory)\n");
}

TEST(CacheMeta, ValuesCannotEscapeTheCache) {
  EXPECT_NE(errors_of("format = f\nkind = rootfs\ndebs = ..\n").find("one word"),
            std::string::npos);
  EXPECT_NE(errors_of("format = f\nkind = rootfs\ndebs = d\ndeb = ../../etc/x.deb\n")
                .find("x.meta:4:7: error: 'deb' needs one word"),
            std::string::npos);
  EXPECT_NE(errors_of("format = \nkind = rootfs\n").find("x.meta:1:"), std::string::npos);
}

TEST(CacheMeta, DebFileNameEncodesTheEpoch) {
  EXPECT_EQ(deb_file_name("bash", "5.2.15-2+b13", "amd64"), "bash_5.2.15-2+b13_amd64.deb");
  EXPECT_EQ(deb_file_name("libgcc-s1", "1:12.2.0-14", "arm64"),
            "libgcc-s1_1%3a12.2.0-14_arm64.deb");
}

}  // namespace
}  // namespace cairn::image
