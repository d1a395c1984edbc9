// DataDir's checks on their own (no dqlite node): names raft may leave, locking, metadata.
#include "datastore/dqlite/data_dir.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "datastore/dqlite/test_support.h"

namespace cairn::dqlite {
namespace {

namespace fs = std::filesystem;

std::string metadata(uint64_t format, uint64_t version) {
  uint64_t w[4] = {format, version, 1, 1};
  return std::string(reinterpret_cast<const char*>(w), sizeof w);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string prepare_error(const std::string& path) {
  try {
    DataDir::prepare(path);
    return "";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
}

TEST(DataDir, KnownFileNames) {
  for (const char* ok :
       {"metadata1", "metadata2", "open-1", "open-123", "0000000000000001-0000000000000010",
        "snapshot-1-1024-123456", "snapshot-1-1024-123456.meta", "tmp-snapshot-1-2-3",
        "tmp-metadata1", ".probe", "cairn-dqlite.lock", "lost+found"}) {
    EXPECT_TRUE(DataDir::is_known_file(ok)) << ok;
  }
  for (const char* bad : {"metadata3", "open-", "open-x", "1-2", "snapshot-1-2",
                          "snapshot-1-2-3.metax", "db.sqlite", "tmp-", "info.yaml"}) {
    EXPECT_FALSE(DataDir::is_known_file(bad)) << bad;
  }
}

TEST(DataDir, CreatesAMissingDirectoryPrivately) {
  testing::TempDir tmp;
  DataDir d = DataDir::prepare(tmp.sub("a/b/c"));
  EXPECT_TRUE(d.fresh());
  EXPECT_TRUE(fs::is_directory(tmp.sub("a/b/c")));
  EXPECT_EQ(fs::status(tmp.sub("a/b/c")).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_TRUE(fs::exists(tmp.sub("a/b/c/cairn-dqlite.lock")));
}

TEST(DataDir, LockIsExclusiveAndReleased) {
  testing::TempDir tmp;
  {
    DataDir d = DataDir::prepare(tmp.path());
    EXPECT_NE(prepare_error(tmp.path()).find("in use"), std::string::npos);
    DataDir moved = std::move(d);
    EXPECT_NE(prepare_error(tmp.path()).find("in use"), std::string::npos);
  }
  EXPECT_EQ(prepare_error(tmp.path()), "");
}

TEST(DataDir, ValidMetadataMeansNotFresh) {
  testing::TempDir tmp;
  write_file(tmp.sub("metadata1"), metadata(1, 1));
  write_file(tmp.sub("metadata2"), metadata(1, 2));
  EXPECT_FALSE(DataDir::prepare(tmp.path()).fresh());
}

TEST(DataDir, ShortMetadataCountsAsUnwritten) {
  testing::TempDir tmp;
  write_file(tmp.sub("metadata1"), "abc");  // torn first write: raft ignores it too
  EXPECT_TRUE(DataDir::prepare(tmp.path()).fresh());
}

TEST(DataDir, BadMetadataIsNamed) {
  testing::TempDir tmp;
  write_file(tmp.sub("metadata2"), metadata(7, 1));
  std::string err = prepare_error(tmp.path());
  EXPECT_NE(err.find("metadata2 has format version 7"), std::string::npos) << err;
  write_file(tmp.sub("metadata2"), metadata(1, 0));
  EXPECT_NE(prepare_error(tmp.path()).find("version 0"), std::string::npos);
  write_file(tmp.sub("metadata1"), metadata(1, 3));
  write_file(tmp.sub("metadata2"), metadata(1, 3));
  EXPECT_NE(prepare_error(tmp.path()).find("both at version 3"), std::string::npos);
  fs::remove(tmp.sub("metadata2"));
  fs::create_directory(tmp.sub("metadata2"));
  EXPECT_NE(prepare_error(tmp.path()).find("not a regular file"), std::string::npos);
}

TEST(DataDir, ListsForeignFiles) {
  testing::TempDir tmp;
  for (int i = 0; i < 7; ++i) write_file(tmp.sub("junk" + std::to_string(i)), "x");
  std::string err = prepare_error(tmp.path());
  EXPECT_NE(err.find("junk"), std::string::npos) << err;
  EXPECT_NE(err.find("7 in all"), std::string::npos) << err;
  EXPECT_NE(err.find(tmp.path()), std::string::npos) << err;
}

}  // namespace
}  // namespace cairn::dqlite
