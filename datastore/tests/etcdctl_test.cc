// The real cairn-datastore binary driven by the real etcdctl (Debian etcd-client 3.4).
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "datastore/tests/datastore_process.h"

namespace cairn::datastore::tests {
namespace {

class Etcdctl : public ::testing::Test {
 protected:
  void SetUp() override { ds.start(); }
  std::string ctl(const std::string& args, int* status = nullptr) {
    return run("etcdctl --command-timeout=20s --endpoints " + ds.endpoint() + " " + args, status);
  }
  int64_t revision() {
    auto out = ctl("get x -w fields");
    auto at = out.find("\"Revision\" : ");
    return at == std::string::npos ? -1 : std::stoll(out.substr(at + 13));
  }
  DatastoreProcess ds;
};

TEST_F(Etcdctl, PutGetDelWithPrefixAndRevision) {
  int st = 0;
  EXPECT_EQ(ctl("put /a/1 one", &st), "OK\n");
  EXPECT_EQ(st, 0);
  ctl("put /a/2 two");
  ctl("put /b x");
  EXPECT_EQ(ctl("get /a --prefix"), "/a/1\none\n/a/2\ntwo\n");
  ctl("put /a/1 uno");
  EXPECT_EQ(ctl("get /a/1 --rev 2"), "/a/1\none\n");
  EXPECT_EQ(ctl("get /a --prefix --keys-only"), "/a/1\n\n/a/2\n\n");
  EXPECT_EQ(ctl("del /a --prefix"), "2\n");
  EXPECT_EQ(ctl("get /a --prefix"), "");
  EXPECT_EQ(ctl("get /a/1 --rev 5"), "/a/1\nuno\n");
}

TEST_F(Etcdctl, Txn) {
  ctl("put k1 v1");
  std::string out =
      run("printf 'value(\"k1\") = \"v1\"\\n\\nput k2 yes\\n\\nput k2 no\\n\\n' | "
          "etcdctl --endpoints " +
          ds.endpoint() + " txn");
  EXPECT_EQ(out, "SUCCESS\n\nOK\n");
  EXPECT_EQ(ctl("get k2 --print-value-only"), "yes\n");
  out =
      run("printf 'mod(\"k1\") = \"999\"\\n\\nput k2 yes\\n\\nget k1\\n\\n' | "
          "etcdctl --endpoints " +
          ds.endpoint() + " txn");
  EXPECT_EQ(out, "FAILURE\n\nk1\nv1\n");
}

TEST_F(Etcdctl, WatchLiveFromOldRevisionAndAfterCompaction) {
  ctl("put w old");
  int64_t rev = revision();
  std::string file = ds.dir() + "/watch.out";
  run("timeout 15 etcdctl --endpoints " + ds.endpoint() + " watch w --prefix --rev " +
      std::to_string(rev) + " > " + file + " 2>&1 &");
  sleep(2);
  ctl("put w2 live");
  std::string got;
  for (int i = 0; i < 100 && got.find("live") == std::string::npos; ++i) {
    usleep(100000);
    got = run("cat " + file);
  }
  EXPECT_EQ(got, "PUT\nw\nold\nPUT\nw2\nlive\n");
  ctl("put w new");
  EXPECT_NE(ctl("compact " + std::to_string(revision())).find("compacted revision"),
            std::string::npos);
  int st = 0;
  std::string canceled = run(
      "timeout 15 etcdctl --endpoints " + ds.endpoint() + " watch w --rev " + std::to_string(rev),
      &st);
  EXPECT_NE(canceled.find("required revision has been compacted"), std::string::npos) << canceled;
  EXPECT_NE(ctl("get w --rev " + std::to_string(rev)).find("required revision has been compacted"),
            std::string::npos);
}

TEST_F(Etcdctl, LeaseGrantKeepAliveTimeToLiveExpiry) {
  std::string grant = ctl("lease grant 2");
  ASSERT_EQ(grant.rfind("lease ", 0), 0u) << grant;
  std::string id = grant.substr(6, grant.find(' ', 6) - 6);
  ctl("put leased v --lease=" + id);
  EXPECT_NE(ctl("lease timetolive " + id + " --keys").find("attached keys([leased])"),
            std::string::npos);
  std::string ka =
      run("timeout 4 etcdctl --endpoints " + ds.endpoint() + " lease keep-alive " + id);
  EXPECT_NE(ka.find("keepalived with TTL(2)"), std::string::npos) << ka;
  EXPECT_EQ(ctl("get leased --print-value-only"), "v\n");
  std::string after;
  for (int i = 0; i < 100; ++i) {
    after = ctl("get leased");
    if (after.empty()) break;
    usleep(200000);
  }
  EXPECT_EQ(after, "");
  EXPECT_NE(ctl("lease timetolive " + id).find("already expired"), std::string::npos);
}

TEST_F(Etcdctl, EndpointStatusHealthMemberList) {
  int st = 1;
  std::string status = ctl("endpoint status", &st);
  EXPECT_EQ(st, 0) << status;
  EXPECT_NE(status.find("3.4.0"), std::string::npos) << status;
  std::string health = ctl("endpoint health", &st);
  EXPECT_EQ(st, 0) << health;
  EXPECT_NE(health.find("is healthy"), std::string::npos) << health;
  EXPECT_NE(ctl("member list").find(ds.endpoint()), std::string::npos);
  EXPECT_EQ(ctl("alarm list"), "");
  EXPECT_NE(ctl("defrag").find("Finished defragmenting"), std::string::npos);
}

TEST_F(Etcdctl, SurvivesSigtermRestart) {
  ctl("put durable yes");
  EXPECT_EQ(ds.terminate(), 0);
  ds.start();
  EXPECT_EQ(ctl("get durable --print-value-only"), "yes\n");
}

TEST(StorageDir, ForeignDirectoryAndBadFlagsAreRefusedClearly) {
  DatastoreProcess foreign;
  run("mkdir -p " + foreign.dir() + "/store && echo hi > " + foreign.dir() + "/store/notes.txt");
  int st = 0;
  std::string out = run("timeout 60 " + std::string(CAIRN_DATASTORE_BIN) + " --storage-dir " +
                            foreign.dir() + "/store --listen unix://" + foreign.dir() + "/s.sock",
                        &st);
  EXPECT_EQ(st, 1);
  EXPECT_NE(out.find("holds 'notes.txt' but no cairn-datastore.format"), std::string::npos) << out;

  out = run(std::string(CAIRN_DATASTORE_BIN) + " --listen ftp://x", &st);
  EXPECT_EQ(st, 2);
  EXPECT_NE(out.find("scheme must be unix:// or tcp://"), std::string::npos) << out;
}

}  // namespace
}  // namespace cairn::datastore::tests
