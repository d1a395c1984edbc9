// A storage dir that is not cairn-datastore's (random files) or whose dqlite data is
// corrupt is refused at start: non-zero exit, a message naming the path, no READY=1.
#include <gtest/gtest.h>

#include "datastore/e2e/datastore_server.h"

namespace cairn::datastore::e2e {
namespace {

TEST(StorageDirE2e, DirectoryWithRandomFilesIsRefusedNamingThePath) {
  DatastoreServer server;
  sh("mkdir -p " + server.storage_dir() + " && head -c 8192 /dev/urandom > " +
     server.storage_dir() + "/blob.bin && mkdir " + server.storage_dir() + "/photos");
  try {
    server.start();
    ADD_FAILURE() << "cairn-datastore served a foreign storage dir";
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("exited before READY=1"), std::string::npos) << msg;
    EXPECT_NE(msg.find(server.storage_dir()), std::string::npos) << msg;
  }
  // Nothing of ours was written into someone else's directory.
  EXPECT_EQ(sh("ls " + server.storage_dir()).output, "blob.bin\nphotos\n");
}

TEST(StorageDirE2e, CorruptDqliteDataIsRefusedNamingThePath) {
  DatastoreServer server;
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
  try {
    server.start();
    ADD_FAILURE() << "cairn-datastore served corrupt data";
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(server.storage_dir()), std::string::npos) << msg;
  }
}

TEST(StorageDirE2e, StorageDirThatIsAFileIsRefused) {
  DatastoreServer server;
  sh("echo not-a-dir > " + server.storage_dir());
  try {
    server.start();
    ADD_FAILURE() << "cairn-datastore started on a regular file";
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(server.storage_dir()), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace cairn::datastore::e2e
