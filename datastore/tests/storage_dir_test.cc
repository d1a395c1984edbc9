// Start-up refusals of the real binary: a storage dir that is not cairn-datastore's (random
// files), whose dqlite data is corrupt, or that is a file is refused with a message naming the
// path and no READY=1; bad flags exit with status 2 and say what is wrong.
#include <gtest/gtest.h>

#include "datastore/testing/datastore_process.h"

namespace cairn::datastore::testing {
namespace {

// start() must fail; returns its message.
std::string refused_start(DatastoreProcess& server) {
  try {
    server.start();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "cairn-datastore served " << server.storage_dir();
  return "";
}

TEST(StorageDir, DirectoryWithRandomFilesIsRefusedNamingThePath) {
  DatastoreProcess server;
  sh("mkdir -p " + server.storage_dir() + " && head -c 8192 /dev/urandom > " +
     server.storage_dir() + "/blob.bin && mkdir " + server.storage_dir() + "/photos");
  std::string msg = refused_start(server);
  EXPECT_NE(msg.find("exited before READY=1 (status 256)"), std::string::npos) << msg;  // exit 1
  EXPECT_NE(msg.find(server.storage_dir()), std::string::npos) << msg;
  EXPECT_NE(msg.find("no cairn-datastore.format"), std::string::npos) << msg;
  // Nothing of ours was written into someone else's directory.
  EXPECT_EQ(sh("ls " + server.storage_dir()).output, "blob.bin\nphotos\n");
}

TEST(StorageDir, CorruptDqliteDataIsRefusedNamingThePath) {
  DatastoreProcess server;
  ASSERT_NO_THROW(server.start());
  EXPECT_EQ(
      sh("etcdctl --command-timeout=30s --endpoints=" + server.endpoint() + " put a b").output,
      "OK\n");
  server.kill9();
  CommandResult r = sh("for f in " + server.storage_dir() +
                       "/dqlite/0* ; do [ -f \"$f\" ] && head -c 4096 /dev/urandom > \"$f\"; done; "
                       "ls " +
                       server.storage_dir() + "/dqlite");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string msg = refused_start(server);
  EXPECT_NE(msg.find(server.storage_dir()), std::string::npos) << msg;
}

TEST(StorageDir, StorageDirThatIsAFileIsRefused) {
  DatastoreProcess server;
  sh("echo not-a-dir > " + server.storage_dir());
  std::string msg = refused_start(server);
  EXPECT_NE(msg.find(server.storage_dir()), std::string::npos) << msg;
}

TEST(Flags, BadFlagsExitWithStatus2AndSayWhy) {
  auto run = [](const std::string& args) {
    return sh("timeout 60 " + std::string(datastore_binary()) + " " + args);
  };
  CommandResult r = run("--storage-dir /tmp/x --listen ftp://x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("scheme must be unix:// or tcp://"), std::string::npos) << r.output;
  r = run("--listen unix:///tmp/s.sock");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--storage-dir is required"), std::string::npos) << r.output;
  r = run("--storage-dir /tmp/x --tls-cert /tmp/c.pem");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--tls-cert and --tls-key must be given together"), std::string::npos)
      << r.output;
  r = run("--storage-dir /tmp/x --bogus");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown argument '--bogus'"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cairn::datastore::testing
