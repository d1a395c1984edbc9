// The real cairn-datastore binary driven by the real etcdctl (Debian etcd-client 3.4,
// ETCDCTL_API=3): KV with JSON output, txn compares on both branches, watch (live, history,
// compacted), leases, endpoint status/health over TCP loopback, SIGTERM, kill -9 under
// concurrent etcdctl writers. Timeouts are generous: the test machine is a loaded 2-core box.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "datastore/e2e/datastore_server.h"

namespace cairn::datastore::e2e {
namespace {

using namespace std::chrono_literals;

// First integer value of "field": in etcdctl's JSON output, or -1.
int64_t json_int(const std::string& json, const std::string& field) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + field + "\":\\s*(-?[0-9]+)"))) return -1;
  return std::stoll(m[1]);
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class EtcdctlE2e : public ::testing::Test {
 protected:
  explicit EtcdctlE2e(DatastoreServer::Transport t = DatastoreServer::Transport::kUnix)
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
  // Polls `etcdctl get key` until it prints nothing (the key is gone) or the timeout passes.
  bool wait_gone(const std::string& key, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ctl("get " + key).output.empty()) return true;
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }
  std::string dir_file(const std::string& name) const { return server.dir() + "/" + name; }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static bool wait_file_has(const std::string& path, const std::string& text,
                            std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (read(path).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }
  DatastoreServer server;
};

class EtcdctlTcpE2e : public EtcdctlE2e {
 protected:
  EtcdctlTcpE2e() : EtcdctlE2e(DatastoreServer::Transport::kTcp) {}
};

TEST_F(EtcdctlE2e, GetWithLimitCountKeysOnlySortAndOldRevisions) {
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

  out("put /p/1 changed");
  EXPECT_EQ(out("del /p/ --prefix --prev-kv"),
            "5\n/p/1\nchanged\n/p/2\nv2\n/p/3\nv3\n/p/4\nv4\n/p/5\nv5\n");
  EXPECT_EQ(out("get /p/ --prefix"), "");
  EXPECT_EQ(out("get /q --print-value-only"), "outside\n");
  // History stays readable until compaction: each revision shows the data as it was.
  EXPECT_EQ(out("get /p/1 --rev 1"), "");
  EXPECT_EQ(out("get /p/1 --rev " + std::to_string(after_puts)), "/p/1\nv1\n");
  EXPECT_EQ(out("get /p/1 --rev " + std::to_string(after_puts + 1)), "/p/1\nchanged\n");
  std::string then = out("get /p/ --prefix --limit 1 -w json --rev " + std::to_string(after_puts));
  EXPECT_EQ(json_int(then, "count"), 5) << then;
  // Versions and revisions as etcd counts them.
  out("put /v a");
  out("put /v b");
  std::string v = out("get /v -w json");
  EXPECT_EQ(json_int(v, "version"), 2) << v;
  EXPECT_EQ(json_int(v, "mod_revision"), json_int(v, "create_revision") + 1) << v;
  EXPECT_EQ(json_int(v, "mod_revision"), json_int(v, "revision")) << v;
}

TEST_F(EtcdctlE2e, TxnComparesTakeTheRightBranch) {
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
  // create = holds but mod < does not: failure branch, which may read.
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
}

TEST_F(EtcdctlE2e, WatchLiveHistoryAndCompactedCancel) {
  out("put w/a 1");
  int64_t first = revision();
  out("put w/a 2");
  out("del w/a");
  // History replay from an old revision: the put, the second put and the delete, in order.
  std::string hist = dir_file("hist.out");
  sh("timeout 20 " + base() + " watch w/ --prefix --rev " + std::to_string(first) + " > " + hist +
     " 2>&1 &");
  std::string want_hist = "PUT\nw/a\n1\nPUT\nw/a\n2\nDELETE\nw/a\n\n";
  EXPECT_TRUE(wait_file_has(hist, want_hist, 30s)) << read(hist);

  // Live events with the previous value.
  std::string live = dir_file("live.out");
  sh("timeout 30 " + base() + " watch live --prev-kv > " + live + " 2>&1 &");
  // Keep writing until the watcher (which may connect slowly) reports an event.
  bool seen = false;
  for (int i = 0; i < 60 && !seen; ++i) {
    out("put live v" + std::to_string(i));
    std::this_thread::sleep_for(500ms);
    seen = read(live).find("PUT\nlive\nv") != std::string::npos;
  }
  EXPECT_TRUE(seen) << read(live);
  out("put live final");
  EXPECT_TRUE(wait_file_has(live, "live\nfinal\n", 30s)) << read(live);

  // After compaction, a watch from below the compacted revision is canceled with the error.
  int64_t now = revision();
  EXPECT_EQ(out("compact " + std::to_string(now)),
            "compacted revision " + std::to_string(now) + "\n");
  CommandResult c =
      sh("timeout 30 " + base() + " watch w/ --prefix --rev " + std::to_string(first));
  EXPECT_NE(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("required revision has been compacted"), std::string::npos) << c.output;
  // And reads below it fail the same way; reads at it still work.
  CommandResult old = ctl("get live --rev " + std::to_string(first));
  EXPECT_NE(old.exit_code, 0);
  EXPECT_NE(old.output.find("required revision has been compacted"), std::string::npos)
      << old.output;
  EXPECT_EQ(out("get live --print-value-only --rev " + std::to_string(now)), "final\n");
}

TEST_F(EtcdctlE2e, LeaseGrantKeepAliveTimeToLiveRevokeAndExpiry) {
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
  CommandResult gone = ctl("lease timetolive " + id);
  EXPECT_NE(gone.output.find("already expired"), std::string::npos) << gone.output;
  CommandResult bad = ctl("put lk3 c --lease=" + id);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("requested lease not found"), std::string::npos) << bad.output;

  // A short lease runs out on its own and takes its key with it.
  g = out("lease grant 2");
  ASSERT_TRUE(std::regex_search(g, m, std::regex("lease ([0-9a-f]+) granted"))) << g;
  out("put short x --lease=" + std::string(m[1]));
  EXPECT_EQ(out("get short --print-value-only"), "x\n");
  EXPECT_TRUE(wait_gone("short", 60s)) << "key of a 2 s lease still there after 60 s";
}

TEST_F(EtcdctlTcpE2e, EndpointStatusHealthAndMembersOverTcpLoopback) {
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
  std::string health = out("endpoint health");
  EXPECT_NE(health.find(server.endpoint() + " is healthy: successfully committed proposal"),
            std::string::npos)
      << health;
  std::string members = out("member list");
  EXPECT_NE(members.find(", started, "), std::string::npos) << members;
  EXPECT_EQ(out("alarm list"), "");
  EXPECT_NE(out("defrag").find("Finished defragmenting etcd member"), std::string::npos);
}

TEST_F(EtcdctlE2e, SigtermExitsCleanlyAndDataSurvivesRestart) {
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

// Three etcdctl writer loops log each key only after `etcdctl put` exited 0 (acknowledged).
// The server is SIGKILLed mid-load, restarted on the same dir, and every logged key must be
// there with its value.
TEST_F(EtcdctlE2e, Kill9UnderConcurrentWritersLosesNoAcknowledgedKey) {
  std::vector<std::string> logs;
  std::string stop = dir_file("stop");
  for (int w = 0; w < 3; ++w) {
    std::string log = dir_file("acked" + std::to_string(w));
    logs.push_back(log);
    sh("(i=0; while [ ! -e " + stop +
       " ]; do etcdctl --dial-timeout=5s --command-timeout=20s "
       "--endpoints=" +
       server.endpoint() + " put ack/" + std::to_string(w) +
       "/$i val$i >/dev/null 2>&1 && echo $i >> " + log +
       " || exit 0; i=$((i+1)); done) "
       ">/dev/null 2>&1 &");
  }
  // Let some writes land (at least a few per writer), then kill mid-stream.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  auto lines = [&](const std::string& f) { return count_of(read(f), "\n"); };
  while (std::chrono::steady_clock::now() < deadline &&
         (lines(logs[0]) < 5 || lines(logs[1]) < 5 || lines(logs[2]) < 5)) {
    std::this_thread::sleep_for(200ms);
  }
  server.kill9();
  sh("touch " + stop);
  // The loops stop on the stop file or their first failed put; let in-flight ones finish.
  std::this_thread::sleep_for(8s);
  ASSERT_NO_THROW(server.start());
  size_t checked = 0;
  for (int w = 0; w < 3; ++w) {
    std::istringstream acked(read(logs[w]));  // read before the get: later acks are not in it
    std::string got = out("get ack/" + std::to_string(w) + "/ --prefix");
    std::string i;
    while (std::getline(acked, i)) {
      ++checked;
      EXPECT_NE(got.find("ack/" + std::to_string(w) + "/" + i + "\nval" + i + "\n"),
                std::string::npos)
          << "acknowledged key ack/" << w << "/" << i << " lost";
    }
  }
  EXPECT_GE(checked, 15u);
}

}  // namespace
}  // namespace cairn::datastore::e2e
