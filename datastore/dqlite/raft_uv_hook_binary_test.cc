// The real cairn-datastore binary (however it is linked: libraft static, wrapped by the
// linker, or shared, interposed) applies --snapshot-compression to the raft I/O libdqlite
// creates (datastore/dqlite/raft_io_settings.h), and a data dir whose snapshots were written
// either way, compressed or plain, restarts with every key.
#include <dirent.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "datastore/testing/datastore_process.h"

namespace cairn::dqlite {
namespace {

using datastore::testing::CommandResult;
using datastore::testing::DatastoreProcess;
using datastore::testing::sh;

std::string etcdctl(const DatastoreProcess& p) {
  return "etcdctl --dial-timeout=20s --command-timeout=30s --endpoints=" + p.endpoint();
}

// Puts keys FROM..TO (one raft entry each) as "k<i>" = "v<i>".
void put_keys(const DatastoreProcess& p, int from, int to) {
  CommandResult r = sh("for i in $(seq " + std::to_string(from) + " " + std::to_string(to) +
                       "); do " + etcdctl(p) + " put k$i v$i >/dev/null || exit 1; done");
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// The raft snapshot data files (not the .meta files) in the node's directory.
std::vector<std::string> snapshot_files(const DatastoreProcess& p) {
  std::vector<std::string> out;
  std::string dir = p.storage_dir() + "/dqlite";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind("snapshot-", 0) == 0 && name.find(".meta") == std::string::npos) {
        out.push_back(dir + "/" + name);
      }
    }
    ::closedir(d);
  }
  return out;
}

// An LZ4 frame starts with the magic number 0x184D2204 (little endian).
bool lz4_frame(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char m[4] = {};
  in.read(reinterpret_cast<char*>(m), 4);
  return in.gcount() == 4 && m[0] == 0x04 && m[1] == 0x22 && m[2] == 0x4d && m[3] == 0x18;
}

// How many of the snapshot files are LZ4 frames / plain.
std::pair<int, int> lz4_and_plain(const DatastoreProcess& p) {
  int lz4 = 0, plain = 0;
  for (auto& f : snapshot_files(p)) (lz4_frame(f) ? lz4 : plain)++;
  return {lz4, plain};
}

TEST(RaftUvHook, CompressionIsOnByDefaultAndTheStartUpLogSaysSo) {
  DatastoreProcess p;
  p.start();
  EXPECT_NE(p.log().find("raft snapshot compression: on (applied to 1 raft I/O)"),
            std::string::npos)
      << p.log();
  EXPECT_NE(p.log().find("raft snapshots: after >= 128 entries and a log >= 1/8 of the last "
                         "snapshot, or after 8192 entries"),
            std::string::npos)
      << p.log();
  EXPECT_EQ(p.terminate(), 0);
}

TEST(RaftUvHook, PlainAndCompressedSnapshotsBothRestartWithEveryKey) {
  DatastoreProcess p;
  // A snapshot every 4 raft entries (each put is one), so a few dozen puts make several.
  std::vector<std::string> small = {"--snapshot-threshold", "4", "--snapshot-trailing", "4"};
  p.extra_args = small;
  p.extra_args.insert(p.extra_args.end(), {"--snapshot-compression", "off"});
  p.start();
  EXPECT_NE(p.log().find("raft snapshot compression: off (applied to 1 raft I/O)"),
            std::string::npos)
      << p.log();
  put_keys(p, 1, 30);
  auto [lz4, plain] = lz4_and_plain(p);
  EXPECT_EQ(lz4, 0);
  EXPECT_GE(plain, 1) << "no snapshot written";
  EXPECT_EQ(p.terminate(), 0);

  // Restart from the plain snapshots, then write compressed ones (the default) on top.
  p.extra_args = small;
  p.start();
  EXPECT_NE(p.log().find("raft snapshot compression: on (applied to 1 raft I/O)"),
            std::string::npos)
      << p.log();
  CommandResult r = sh(etcdctl(p) + " get k30 --print-value-only");
  EXPECT_EQ(r.output, "v30\n");
  put_keys(p, 31, 60);
  EXPECT_GE(lz4_and_plain(p).first, 1) << "no compressed snapshot written";
  EXPECT_EQ(p.terminate(), 0);

  // And back: the compressed snapshots load with compression off.
  p.extra_args = small;
  p.extra_args.insert(p.extra_args.end(), {"--snapshot-compression", "off"});
  p.start();
  r = sh(etcdctl(p) + " get k --prefix --keys-only | grep -c '^k'");
  EXPECT_EQ(r.output, "60\n");
  for (int i : {1, 30, 31, 60}) {
    r = sh(etcdctl(p) + " get k" + std::to_string(i) + " --print-value-only");
    EXPECT_EQ(r.output, "v" + std::to_string(i) + "\n");
  }
  EXPECT_EQ(p.terminate(), 0);
}

TEST(RaftUvHook, PacedSnapshotsRestartWithEveryKey) {
  DatastoreProcess p;
  // Every 4 entries at least, and once the log since the last snapshot is half its size
  // (the wrapped append and snapshot_put of the raft I/O count the bytes).
  std::vector<std::string> paced = {"--snapshot-threshold", "4", "--snapshot-trailing", "4",
                                    "--snapshot-log-ratio", "2"};
  p.extra_args = paced;
  p.start();
  EXPECT_NE(p.log().find("raft snapshots: after >= 4 entries and a log >= 1/2 of the last "
                         "snapshot, or after 256 entries"),
            std::string::npos)
      << p.log();
  put_keys(p, 1, 40);
  EXPECT_GE(snapshot_files(p).size(), 1u) << "no snapshot written";
  EXPECT_EQ(p.terminate(), 0);

  p.extra_args = paced;
  p.start();
  CommandResult r = sh(etcdctl(p) + " get k --prefix --keys-only | grep -c '^k'");
  EXPECT_EQ(r.output, "40\n");
  put_keys(p, 41, 60);
  EXPECT_EQ(p.terminate(), 0);
  p.extra_args = {"--snapshot-log-ratio", "0"};
  p.start();
  EXPECT_NE(p.log().find("raft snapshots: every 128 entries"), std::string::npos) << p.log();
  r = sh(etcdctl(p) + " get k --prefix --keys-only | grep -c '^k'");
  EXPECT_EQ(r.output, "60\n");
  EXPECT_EQ(p.terminate(), 0);
}

}  // namespace
}  // namespace cairn::dqlite
