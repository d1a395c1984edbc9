// The real cairn-datastore binary driven by the real etcdctl (Debian etcd-client 3.4,
// ETCDCTL_API=3): KV with prefixes, limits and old revisions; txn compares on both branches;
// watch (live, from an old revision, after compaction); leases (grant, keep-alive stream,
// time-to-live, revoke, expiry); endpoint status/health over TCP loopback; SIGTERM restart.
// Timeouts are generous: the test machine is a loaded 2-core box.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <regex>
#include <thread>

#include "datastore/testing/datastore_process.h"

namespace cairn::datastore::testing {
namespace {

using namespace std::chrono_literals;

class Etcdctl : public ::testing::Test {
 protected:
  explicit Etcdctl(DatastoreProcess::Transport t = DatastoreProcess::Transport::kUnix)
      : server(t) {}
  void SetUp() override { ASSERT_NO_THROW(server.start()); }
  std::string base() const {
    return "etcdctl --dial-timeout=20s --command-timeout=30s --endpoints=" + server.endpoint();
  }
  CommandResult ctl(const std::string& args) { return sh(base() + " " + args); }
  std::string out(const std::string& args) {
    CommandResult r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << "etcdctl " << args << "\n" << r.output;
    return r.output;
  }
  int64_t revision() { return json_int(out("get nothing-here -w json"), "revision"); }
  bool gone(const std::string& key) { return ctl("get " + key).output.empty(); }
  std::string file(const std::string& name) const { return server.dir() + "/" + name; }
  static bool file_has(const std::string& path, const std::string& text) {
    return wait_until([&] { return read_file(path).find(text) != std::string::npos; }, 30s);
  }
  DatastoreProcess server;
};

class EtcdctlTcp : public Etcdctl {
 protected:
  EtcdctlTcp() : Etcdctl(DatastoreProcess::Transport::kTcp) {}
};

TEST_F(Etcdctl, PutGetDelWithPrefixesLimitsAndRevisions) {
  for (int i = 1; i <= 5; ++i)
    EXPECT_EQ(out("put /p/" + std::to_string(i) + " v" + std::to_string(i)), "OK\n");
  out("put /q outside");
  int64_t after_puts = revision();
  ASSERT_GT(after_puts, 0);

  std::string limited = out("get /p/ --prefix --limit 2 -w json");
  EXPECT_EQ(json_int(limited, "count"), 5) << limited;
  EXPECT_NE(limited.find("\"more\":true"), std::string::npos) << limited;
  EXPECT_EQ(count_of(limited, "\"create_revision\""), 2u) << limited;
  EXPECT_EQ(out("get /p/ --prefix --limit 2"), "/p/1\nv1\n/p/2\nv2\n");

  // etcdctl 3.4 has no --count-only; the count still comes with any limited range.
  std::string counted = out("get /p/ --prefix --limit 1 --keys-only -w json");
  EXPECT_EQ(json_int(counted, "count"), 5) << counted;
  EXPECT_EQ(counted.find("\"value\""), std::string::npos) << counted;

  EXPECT_EQ(out("get /p/ --prefix --keys-only"), "/p/1\n\n/p/2\n\n/p/3\n\n/p/4\n\n/p/5\n\n");
  EXPECT_EQ(out("get /p/2 /p/4"), "/p/2\nv2\n/p/3\nv3\n");  // [key, range_end)
  EXPECT_EQ(out("get /p/ --prefix --sort-by=KEY --order=DESCEND --limit 1"), "/p/5\nv5\n");
  EXPECT_EQ(out("get /p/ --from-key --keys-only --limit 1"), "/p/1\n\n");

  out("put /p/1 changed");
  EXPECT_EQ(out("del /p/ --prefix --prev-kv"),
            "5\n/p/1\nchanged\n/p/2\nv2\n/p/3\nv3\n/p/4\nv4\n/p/5\nv5\n");
  EXPECT_EQ(out("get /p/ --prefix"), "");
  EXPECT_EQ(out("del /p/ --prefix"), "0\n");
  EXPECT_EQ(out("get /q --print-value-only"), "outside\n");
  // History stays readable until compaction: each revision shows the data as it was.
  EXPECT_EQ(out("get /p/1 --rev 1"), "");
  EXPECT_EQ(out("get /p/1 --rev " + std::to_string(after_puts)), "/p/1\nv1\n");
  EXPECT_EQ(out("get /p/1 --rev " + std::to_string(after_puts + 1)), "/p/1\nchanged\n");
  EXPECT_EQ(out("get /p/ --prefix --keys-only --rev " + std::to_string(after_puts + 1)),
            "/p/1\n\n/p/2\n\n/p/3\n\n/p/4\n\n/p/5\n\n");
  std::string then = out("get /p/ --prefix --limit 1 -w json --rev " + std::to_string(after_puts));
  EXPECT_EQ(json_int(then, "count"), 5) << then;
  CommandResult future = ctl("get /q --rev " + std::to_string(revision() + 100));
  EXPECT_NE(future.exit_code, 0);
  EXPECT_NE(future.output.find("required revision is a future revision"), std::string::npos)
      << future.output;
  // Versions and revisions as etcd counts them.
  out("put /v a");
  out("put /v b");
  std::string v = out("get /v -w json");
  EXPECT_EQ(json_int(v, "version"), 2) << v;
  EXPECT_EQ(json_int(v, "mod_revision"), json_int(v, "create_revision") + 1) << v;
  EXPECT_EQ(json_int(v, "mod_revision"), json_int(v, "revision")) << v;
}

TEST_F(Etcdctl, TxnComparesTakeTheRightBranch) {
  out("put k v1");
  std::string created = out("get k -w json");
  int64_t create_rev = json_int(created, "create_revision");
  ASSERT_GT(create_rev, 0) << created;
  auto txn = [&](const std::string& script) {
    return sh("printf " + quote(script) + " | " + base() + " txn");
  };
  // value = and version = hold: success branch runs both its ops.
  CommandResult r = txn(
      "value(\"k\") = \"v1\"\nversion(\"k\") = \"1\"\n\nput k v2\nput other x\n\nput k bad\n\n");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "SUCCESS\n\nOK\n\nOK\n");
  EXPECT_EQ(out("get k --print-value-only"), "v2\n");
  // create = holds but mod < does not: failure branch, which may read and delete.
  r = txn("create(\"k\") = \"" + std::to_string(create_rev) + "\"\nmod(\"k\") < \"" +
          std::to_string(create_rev) + "\"\n\nput k bad\n\nget k\ndel other\n\n");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "FAILURE\n\nk\nv2\n\n1\n");
  EXPECT_EQ(out("get other"), "");
  // != and > compares; a missing key has version 0 (the kube-apiserver "create" shape).
  r = txn("value(\"k\") != \"v1\"\nmod(\"k\") > \"" + std::to_string(create_rev) +
          "\"\nversion(\"fresh\") = \"0\"\n\nput fresh new\n\n\n");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "SUCCESS\n\nOK\n");
  r = txn("version(\"fresh\") = \"0\"\n\nput fresh again\n\nget fresh\n\n");
  EXPECT_EQ(r.output, "FAILURE\n\nfresh\nnew\n");
  // A txn writes all its ops at one revision.
  int64_t before = revision();
  r = txn("\nput t1 a\nput t2 b\n\n\n");
  EXPECT_EQ(r.output, "SUCCESS\n\nOK\n\nOK\n");
  EXPECT_EQ(revision(), before + 1);
}

TEST_F(Etcdctl, WatchLiveFromAnOldRevisionAndAfterCompaction) {
  out("put w/a 1");
  int64_t first = revision();
  out("put w/a 2");
  out("del w/a");
  // History replay from an old revision: the put, the second put and the delete, in order.
  std::string hist = file("hist.out");
  sh("timeout 20 " + base() + " watch w/ --prefix --rev " + std::to_string(first) + " > " + hist +
     " 2>&1 &");
  EXPECT_TRUE(file_has(hist, "PUT\nw/a\n1\nPUT\nw/a\n2\nDELETE\nw/a\n\n")) << read_file(hist);

  // Live events with the previous value.
  std::string live = file("live.out");
  sh("timeout 30 " + base() + " watch live --prev-kv > " + live + " 2>&1 &");
  // Keep writing until the watcher (which may connect slowly) reports an event.
  bool seen = false;
  for (int i = 0; i < 60 && !seen; ++i) {
    out("put live v" + std::to_string(i));
    std::this_thread::sleep_for(500ms);
    seen = read_file(live).find("PUT\nlive\nv") != std::string::npos;
  }
  EXPECT_TRUE(seen) << read_file(live);
  out("put live final");
  EXPECT_TRUE(file_has(live, "live\nfinal\n")) << read_file(live);

  // After compaction, a watch from below the compacted revision is canceled with the error.
  int64_t now = revision();
  EXPECT_EQ(out("compact " + std::to_string(now)),
            "compacted revision " + std::to_string(now) + "\n");
  CommandResult c =
      sh("timeout 30 " + base() + " watch w/ --prefix --rev " + std::to_string(first));
  EXPECT_NE(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("required revision has been compacted"), std::string::npos) << c.output;
  // A watch from the compacted revision itself still works (replays what is left).
  std::string at = file("at.out");
  sh("timeout 20 " + base() + " watch live --rev " + std::to_string(now) + " > " + at + " 2>&1 &");
  EXPECT_TRUE(file_has(at, "PUT\nlive\nfinal\n")) << read_file(at);
  // And reads below it fail the same way; reads at it still work.
  CommandResult old = ctl("get live --rev " + std::to_string(first));
  EXPECT_NE(old.exit_code, 0);
  EXPECT_NE(old.output.find("required revision has been compacted"), std::string::npos)
      << old.output;
  EXPECT_EQ(out("get live --print-value-only --rev " + std::to_string(now)), "final\n");
}

TEST_F(Etcdctl, LeaseGrantKeepAliveTimeToLiveRevokeAndExpiry) {
  std::smatch m;
  std::string g = out("lease grant 600");
  ASSERT_TRUE(std::regex_search(g, m, std::regex("lease ([0-9a-f]+) granted with TTL\\(600s\\)")))
      << g;
  std::string id = m[1];
  EXPECT_EQ(out("put lk1 a --lease=" + id), "OK\n");
  EXPECT_EQ(out("put lk2 b --lease=" + id), "OK\n");
  std::string ttl = out("lease timetolive " + id + " --keys");
  EXPECT_NE(ttl.find("granted with TTL(600s)"), std::string::npos) << ttl;
  EXPECT_NE(ttl.find("attached keys([lk1 lk2])"), std::string::npos) << ttl;
  EXPECT_NE(out("lease keep-alive --once " + id).find("lease " + id + " keepalived with TTL(600)"),
            std::string::npos);
  EXPECT_NE(out("lease list").find(id), std::string::npos);
  EXPECT_EQ(json_int(out("get lk1 -w json"), "lease"), std::stoll(id, nullptr, 16));
  EXPECT_EQ(out("lease revoke " + id), "lease " + id + " revoked\n");
  EXPECT_EQ(out("get lk --prefix"), "");
  CommandResult revoked = ctl("lease timetolive " + id);
  EXPECT_NE(revoked.output.find("already expired"), std::string::npos) << revoked.output;
  CommandResult bad = ctl("put lk3 c --lease=" + id);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("requested lease not found"), std::string::npos) << bad.output;

  // A 5 s lease kept alive by the keep-alive stream outlives 2 TTLs; once the stream stops it
  // runs out and takes its key with it.
  g = out("lease grant 5");
  ASSERT_TRUE(std::regex_search(g, m, std::regex("lease ([0-9a-f]+) granted"))) << g;
  std::string short_id = m[1];
  std::string ka = file("keepalive.out");
  sh(base() + " lease keep-alive " + short_id + " > " + ka + " 2>&1 & echo $! > " + ka + ".pid");
  out("put short x --lease=" + short_id);
  std::this_thread::sleep_for(12s);
  EXPECT_EQ(out("get short --print-value-only"), "x\n") << read_file(ka);
  sh("kill $(cat " + ka + ".pid)");
  EXPECT_GE(count_of(read_file(ka), "lease " + short_id + " keepalived with TTL(5)"), 2u)
      << read_file(ka);
  EXPECT_TRUE(wait_until([&] { return gone("short"); }, 60s))
      << "key of a 5 s lease still there 60 s after its keep-alive stopped";
  CommandResult expired = ctl("lease timetolive " + short_id);
  EXPECT_NE(expired.output.find("already expired"), std::string::npos) << expired.output;
}

TEST_F(EtcdctlTcp, EndpointStatusHealthAndMembersOverTcpLoopback) {
  out("put s 1");
  std::string st = out("endpoint status -w json");
  EXPECT_NE(st.find("\"Endpoint\":\"" + server.endpoint() + "\""), std::string::npos) << st;
  EXPECT_NE(st.find("\"version\":\"3."), std::string::npos) << st;
  EXPECT_GT(json_int(st, "dbSize"), 0) << st;
  EXPECT_GT(json_int(st, "leader"), 0) << st;
  EXPECT_EQ(json_int(st, "leader"), json_int(st, "member_id")) << st;
  EXPECT_GT(json_int(st, "raftIndex"), 0) << st;
  EXPECT_GT(json_int(st, "raftTerm"), 0) << st;
  EXPECT_GE(json_int(st, "revision"), 2) << st;
  std::string table = out("endpoint status");
  EXPECT_NE(table.find(server.endpoint() + ", "), std::string::npos) << table;
  EXPECT_NE(table.find(", true, "), std::string::npos) << table;  // is leader
  std::string health = out("endpoint health");
  EXPECT_NE(health.find(server.endpoint() + " is healthy: successfully committed proposal"),
            std::string::npos)
      << health;
  std::string members = out("member list");
  EXPECT_NE(members.find(", started, "), std::string::npos) << members;
  EXPECT_NE(members.find("tcp://" + server.endpoint()), std::string::npos) << members;
  EXPECT_EQ(out("alarm list"), "");
  EXPECT_NE(out("defrag").find("Finished defragmenting etcd member"), std::string::npos);
}

TEST_F(Etcdctl, EndpointHealthOverUnixSocket) {
  std::string health = out("endpoint health");
  EXPECT_NE(health.find(" is healthy: successfully committed proposal"), std::string::npos)
      << health;
}

TEST_F(Etcdctl, SigtermExitsCleanlyAndDataSurvivesRestart) {
  out("put durable yes");
  int status = server.terminate();
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << server.log();
  ASSERT_NO_THROW(server.start());
  EXPECT_EQ(out("get durable --print-value-only"), "yes\n");
  // Revisions continue from where they were, not from 1.
  out("put durable again");
  EXPECT_EQ(json_int(out("get durable -w json"), "version"), 2);
}

}  // namespace
}  // namespace cairn::datastore::testing
