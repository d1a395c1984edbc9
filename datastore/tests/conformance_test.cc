// A kube-apiserver-shaped conformance suite over gRPC against the real binary. The requests
// have the shapes k8s.io/apiserver/pkg/storage/etcd3 (store.go, compact.go, watcher.go) sends:
//   create:  Txn If(mod(key) = 0) Then(Put(key, obj [, lease]))                  (no else)
//   update:  Txn If(mod(key) = rev) Then(Put(key, obj)) Else(Get(key))
//   delete:  Txn If(mod(key) = rev) Then(DeleteRange(key)) Else(Get(key))
//   compact: Txn If(version("compact_rev_key") = v) Then(Put(compact_rev_key, rev))
//            Else(Get(compact_rev_key)), then Compact(rev)
//   list:    Range(prefix, prefix_end, limit [, revision]); next page from last key + "\0" at
//            the first page's revision; count = items left incl. this page
//   count:   Range(prefix, prefix_end, count_only)
//   watch:   Watch(prefix, start_revision = list revision + 1, prev_kv, progress_notify)
// plus kill -9 under concurrent write load losing no acknowledged write.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "datastore/proto/rpc.grpc.pb.h"
#include "datastore/testing/datastore_process.h"

namespace cairn::datastore::testing {
namespace {

using namespace etcdserverpb;
using namespace std::chrono_literals;

std::string prefix_end(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

Compare mod_is(const std::string& key, int64_t rev) {
  Compare c;
  c.set_key(key);
  c.set_target(Compare::MOD);
  c.set_result(Compare::EQUAL);
  c.set_mod_revision(rev);
  return c;
}

TxnRequest create_txn(const std::string& key, const std::string& obj, int64_t lease = 0) {
  TxnRequest t;
  *t.add_compare() = mod_is(key, 0);
  auto* put = t.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(obj);
  put->set_lease(lease);
  return t;
}

TxnRequest update_txn(const std::string& key, int64_t rev, const std::string& obj) {
  TxnRequest t;
  *t.add_compare() = mod_is(key, rev);
  auto* put = t.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(obj);
  t.add_failure()->mutable_request_range()->set_key(key);
  return t;
}

TxnRequest delete_txn(const std::string& key, int64_t rev) {
  TxnRequest t;
  *t.add_compare() = mod_is(key, rev);
  t.add_success()->mutable_request_delete_range()->set_key(key);
  t.add_failure()->mutable_request_range()->set_key(key);
  return t;
}

TxnRequest compact_txn(int64_t seen_version, int64_t rev) {
  TxnRequest t;
  auto* c = t.add_compare();
  c->set_key("compact_rev_key");
  c->set_target(Compare::VERSION);
  c->set_result(Compare::EQUAL);
  c->set_version(seen_version);
  auto* put = t.add_success()->mutable_request_put();
  put->set_key("compact_rev_key");
  put->set_value(std::to_string(rev));
  t.add_failure()->mutable_request_range()->set_key("compact_rev_key");
  return t;
}

class Conformance : public ::testing::Test {
 protected:
  void SetUp() override {
    // Progress notifications every 300 ms instead of etcd's 10 min, so the test sees some.
    server.extra_args = {"--progress-interval-ms", "300"};
    ASSERT_NO_THROW(server.start());
    connect();
  }
  void connect() {
    channel = grpc::CreateChannel(server.endpoint(), grpc::InsecureChannelCredentials());
    kv = KV::NewStub(channel);
    watch = Watch::NewStub(channel);
    lease = Lease::NewStub(channel);
  }
  static void deadline(grpc::ClientContext* ctx, std::chrono::seconds s = 30s) {
    ctx->set_deadline(std::chrono::system_clock::now() + s);
  }
  TxnResponse txn(const TxnRequest& r) {
    grpc::ClientContext ctx;
    deadline(&ctx);
    TxnResponse out;
    grpc::Status st = kv->Txn(&ctx, r, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }
  grpc::Status range(const RangeRequest& r, RangeResponse* out) {
    grpc::ClientContext ctx;
    deadline(&ctx);
    return kv->Range(&ctx, r, out);
  }
  RangeResponse get(const std::string& key) {
    RangeRequest r;
    r.set_key(key);
    RangeResponse out;
    grpc::Status st = range(r, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }
  grpc::Status compact(int64_t rev) {
    grpc::ClientContext ctx;
    deadline(&ctx);
    CompactionRequest r;
    r.set_revision(rev);
    CompactionResponse out;
    return kv->Compact(&ctx, r, &out);
  }
  // kube-apiserver's compactor step: returns the compact_rev_key version it now knows.
  int64_t compactor_step(int64_t seen_version, int64_t rev) {
    TxnResponse r = txn(compact_txn(seen_version, rev));
    if (!r.succeeded()) return r.responses(0).response_range().kvs(0).version();
    EXPECT_TRUE(compact(rev).ok());
    return seen_version + 1;
  }

  DatastoreProcess server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<KV::Stub> kv;
  std::unique_ptr<Watch::Stub> watch;
  std::unique_ptr<Lease::Stub> lease;
};

TEST_F(Conformance, CreateUpdateDeleteTxnShapes) {
  const std::string key = "/registry/configmaps/default/a";
  TxnResponse r = txn(create_txn(key, "v1"));
  EXPECT_TRUE(r.succeeded());
  ASSERT_EQ(r.responses_size(), 1);
  int64_t rev = r.responses(0).response_put().header().revision();
  EXPECT_EQ(rev, r.header().revision());
  // Create of an existing key: the compare fails, no else ops, nothing written.
  r = txn(create_txn(key, "again"));
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.responses_size(), 0);
  EXPECT_EQ(r.header().revision(), rev);
  RangeResponse cur = get(key);
  ASSERT_EQ(cur.kvs_size(), 1);
  EXPECT_EQ(cur.kvs(0).value(), "v1");
  EXPECT_EQ(cur.kvs(0).mod_revision(), rev);
  EXPECT_EQ(cur.kvs(0).create_revision(), rev);
  EXPECT_EQ(cur.kvs(0).version(), 1);

  // Update at the revision read: succeeds; with a stale revision: the else branch returns the
  // current object, from which the apiserver retries.
  r = txn(update_txn(key, rev, "v2"));
  EXPECT_TRUE(r.succeeded());
  int64_t rev2 = r.responses(0).response_put().header().revision();
  EXPECT_EQ(rev2, rev + 1);
  r = txn(update_txn(key, rev, "v3"));
  EXPECT_FALSE(r.succeeded());
  ASSERT_EQ(r.responses(0).response_range().kvs_size(), 1);
  const auto& current = r.responses(0).response_range().kvs(0);
  EXPECT_EQ(current.value(), "v2");
  EXPECT_EQ(current.mod_revision(), rev2);
  EXPECT_EQ(current.version(), 2);
  r = txn(update_txn(key, current.mod_revision(), "v3"));
  EXPECT_TRUE(r.succeeded());
  int64_t rev3 = r.header().revision();

  // Update of a key that is gone (mod = 0 is what getState gives a missing object).
  r = txn(update_txn("/registry/configmaps/default/missing", 5, "x"));
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.responses(0).response_range().kvs_size(), 0);

  // Delete with a stale revision fails and returns the object; at the current one it deletes.
  r = txn(delete_txn(key, rev2));
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.responses(0).response_range().kvs(0).mod_revision(), rev3);
  r = txn(delete_txn(key, rev3));
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(r.responses(0).response_delete_range().deleted(), 1);
  EXPECT_EQ(r.responses(0).response_delete_range().header().revision(), rev3 + 1);
  EXPECT_EQ(get(key).kvs_size(), 0);
  // Re-create after delete starts a new generation: version 1, new create revision.
  r = txn(create_txn(key, "reborn"));
  EXPECT_TRUE(r.succeeded());
  cur = get(key);
  EXPECT_EQ(cur.kvs(0).version(), 1);
  EXPECT_EQ(cur.kvs(0).create_revision(), rev3 + 2);
}

TEST_F(Conformance, CreateWithTtlAttachesTheLeaseAndExpires) {
  grpc::ClientContext ctx;
  deadline(&ctx);
  LeaseGrantRequest g;
  g.set_ttl(2);
  LeaseGrantResponse lg;
  ASSERT_TRUE(lease->LeaseGrant(&ctx, g, &lg).ok());
  ASSERT_NE(lg.id(), 0);
  const std::string key = "/registry/events/default/e1";
  EXPECT_TRUE(txn(create_txn(key, "event", lg.id())).succeeded());
  RangeResponse cur = get(key);
  ASSERT_EQ(cur.kvs_size(), 1);
  EXPECT_EQ(cur.kvs(0).lease(), lg.id());
  EXPECT_TRUE(wait_until([&] { return get(key).kvs_size() == 0; }, 60s, 250ms));
}

TEST_F(Conformance, CompactorTxnThenCompact) {
  for (int i = 0; i < 3; ++i) txn(create_txn("/registry/pods/p" + std::to_string(i), "x"));
  int64_t rev = get("/registry/pods/p0").header().revision();
  // First compactor sees version 0 and wins; a second one with the same view loses and learns
  // the current version from the else branch; with that version it wins the next round.
  EXPECT_EQ(compactor_step(0, rev), 1);
  EXPECT_EQ(compactor_step(0, rev), 1);
  RangeResponse ck = get("compact_rev_key");
  ASSERT_EQ(ck.kvs_size(), 1);
  EXPECT_EQ(ck.kvs(0).value(), std::to_string(rev));
  RangeRequest old;
  old.set_key("/registry/pods/p0");
  old.set_revision(rev - 1);
  RangeResponse out;
  grpc::Status st = range(old, &out);
  EXPECT_EQ(st.error_code(), grpc::OUT_OF_RANGE);
  EXPECT_EQ(st.error_message(), "etcdserver: mvcc: required revision has been compacted");
  old.set_revision(rev);
  EXPECT_TRUE(range(old, &out).ok());
  EXPECT_EQ(out.kvs_size(), 1);
  // Compacting again at an older revision is an error too; at a newer one it works.
  st = compact(rev - 1);
  EXPECT_EQ(st.error_code(), grpc::OUT_OF_RANGE);
  int64_t newer = txn(create_txn("/registry/pods/p9", "x")).header().revision();
  EXPECT_EQ(compactor_step(1, newer), 2);
}

TEST_F(Conformance, PaginatedListWithContinueAtARevision) {
  const std::string prefix = "/registry/pods/";
  for (int i = 0; i < 25; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "/registry/pods/p%02d", i);
    ASSERT_TRUE(txn(create_txn(key, "pod" + std::to_string(i))).succeeded());
  }
  txn(create_txn("/registry/podsecuritypolicies/x", "not a pod"));  // outside the prefix
  // Count, as store.Count asks for it.
  RangeRequest count;
  count.set_key(prefix);
  count.set_range_end(prefix_end(prefix));
  count.set_count_only(true);
  RangeResponse counted;
  ASSERT_TRUE(range(count, &counted).ok());
  EXPECT_EQ(counted.count(), 25);
  EXPECT_EQ(counted.kvs_size(), 0);

  RangeRequest list;
  list.set_key(prefix);
  list.set_range_end(prefix_end(prefix));
  list.set_limit(10);
  RangeResponse page;
  ASSERT_TRUE(range(list, &page).ok());
  const int64_t list_rev = page.header().revision();
  EXPECT_EQ(page.count(), 25);
  std::vector<std::string> seen;
  std::vector<int64_t> remaining;
  for (int pages = 1;; ++pages) {
    ASSERT_LE(pages, 3);
    for (const auto& item : page.kvs()) {
      seen.push_back(item.key());
      if (item.key() == "/registry/pods/p10") {
        EXPECT_EQ(item.value(), "pod10");  // as it was at list_rev
      }
    }
    remaining.push_back(page.count() - list.limit());  // remainingItemCount
    // Writes between pages (an update, a delete, creates) must not show in later pages.
    if (pages == 1) {
      const std::string p10 = "/registry/pods/p10", p24 = "/registry/pods/p24";
      EXPECT_TRUE(txn(update_txn(p10, get(p10).kvs(0).mod_revision(), "new")).succeeded());
      EXPECT_TRUE(txn(delete_txn(p24, get(p24).kvs(0).mod_revision())).succeeded());
    }
    EXPECT_TRUE(txn(create_txn(prefix + "zz" + std::to_string(pages), "late")).succeeded());
    if (!page.more()) break;
    list.set_key(seen.back() + '\0');
    list.set_revision(list_rev);
    ASSERT_TRUE(range(list, &page).ok());
    EXPECT_GT(page.header().revision(), list_rev);  // the header shows the current revision
  }
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "/registry/pods/p%02d", i);
    EXPECT_EQ(seen[static_cast<size_t>(i)], key);
  }
  EXPECT_EQ(remaining, (std::vector<int64_t>{15, 5, -5}));

  // A continue token whose revision was compacted meanwhile: the compacted error (410 Gone in
  // kube-apiserver, which makes the client relist).
  int64_t now = get(prefix).header().revision();
  ASSERT_TRUE(compact(now).ok());
  list.set_key(std::string("/registry/pods/p09") + '\0');
  list.set_revision(list_rev);
  grpc::Status st = range(list, &page);
  EXPECT_EQ(st.error_code(), grpc::OUT_OF_RANGE);
  EXPECT_EQ(st.error_message(), "etcdserver: mvcc: required revision has been compacted");
}

// One watch stream, as the apiserver's watcher opens it.
class WatchStream {
 public:
  WatchStream(Watch::Stub& stub, const std::string& prefix, int64_t start_rev) {
    ctx_.set_deadline(std::chrono::system_clock::now() + 120s);
    stream_ = stub.Watch(&ctx_);
    WatchRequest create;
    auto* cr = create.mutable_create_request();
    cr->set_key(prefix);
    cr->set_range_end(prefix_end(prefix));
    cr->set_start_revision(start_rev);
    cr->set_prev_kv(true);
    cr->set_progress_notify(true);
    EXPECT_TRUE(stream_->Write(create));
  }
  ~WatchStream() { ctx_.TryCancel(); }
  bool read(WatchResponse* r) { return stream_->Read(r); }
  bool write(const WatchRequest& r) { return stream_->Write(r); }
  // Reads responses until `n` events arrived; progress notifications are skipped.
  std::vector<mvccpb::Event> events(size_t n) {
    std::vector<mvccpb::Event> got;
    WatchResponse r;
    while (got.size() < n && read(&r)) {
      for (const auto& e : r.events()) got.push_back(e);
    }
    return got;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<WatchRequest, WatchResponse>> stream_;
};

TEST_F(Conformance, WatchFromListRevisionWithPrevKvAndProgress) {
  const std::string key = "/registry/secrets/ns/s";
  int64_t created = txn(create_txn(key, "1")).header().revision();
  int64_t updated = txn(update_txn(key, created, "2")).header().revision();
  // The apiserver lists at `created`, then watches from created + 1: it must get exactly the
  // update and what follows, with previous values.
  WatchStream w(*watch, "/registry/secrets/", created + 1);
  WatchResponse resp;
  ASSERT_TRUE(w.read(&resp));
  EXPECT_TRUE(resp.created());
  const int64_t id = resp.watch_id();
  int64_t deleted = txn(delete_txn(key, updated)).header().revision();
  auto events = w.events(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), mvccpb::Event::PUT);
  EXPECT_EQ(events[0].kv().value(), "2");
  EXPECT_EQ(events[0].kv().mod_revision(), updated);
  EXPECT_EQ(events[0].prev_kv().value(), "1");
  EXPECT_EQ(events[1].type(), mvccpb::Event::DELETE);
  EXPECT_EQ(events[1].kv().mod_revision(), deleted);
  EXPECT_EQ(events[1].prev_kv().value(), "2");  // the apiserver decodes the deleted object

  // Idle: periodic progress notifications (the server runs with a 300 ms interval) carry the
  // watcher's id, no events and the current revision (the apiserver's bookmarks).
  int64_t other = txn(create_txn("/registry/other", "x")).header().revision();
  bool notified = false;
  for (int i = 0; i < 50 && !notified; ++i) {
    ASSERT_TRUE(w.read(&resp));
    ASSERT_EQ(resp.events_size(), 0) << "event outside the watched prefix";
    notified = resp.watch_id() == id && resp.header().revision() == other;
  }
  EXPECT_TRUE(notified);

  // A progress request (RequestWatchProgress) is answered with watch_id -1 and the revision.
  WatchRequest progress;
  progress.mutable_progress_request();
  ASSERT_TRUE(w.write(progress));
  bool answered = false;
  for (int i = 0; i < 50 && !answered; ++i) {
    ASSERT_TRUE(w.read(&resp));
    EXPECT_EQ(resp.events_size(), 0);
    answered = resp.watch_id() == -1;
  }
  EXPECT_TRUE(answered);
  EXPECT_EQ(resp.header().revision(), other);
}

TEST_F(Conformance, WatchFromACompactedRevisionIsCanceledWithTheCompactRevision) {
  const std::string key = "/registry/leases/l";
  int64_t first = txn(create_txn(key, "1")).header().revision();
  int64_t second = txn(update_txn(key, first, "2")).header().revision();
  ASSERT_TRUE(compact(second).ok());
  {
    WatchStream w(*watch, "/registry/leases/", first);
    WatchResponse resp;
    ASSERT_TRUE(w.read(&resp));
    if (resp.created() && !resp.canceled()) {
      ASSERT_TRUE(w.read(&resp));
    }
    EXPECT_TRUE(resp.canceled());
    EXPECT_EQ(resp.compact_revision(), second);
  }
  // Relisting at the compact revision and watching from it + 1 works.
  WatchStream w(*watch, "/registry/leases/", second + 1);
  WatchResponse resp;
  ASSERT_TRUE(w.read(&resp));
  EXPECT_TRUE(resp.created());
  EXPECT_FALSE(resp.canceled());
  txn(update_txn(key, second, "3"));
  auto events = w.events(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv().value(), "3");
  EXPECT_EQ(events[0].prev_kv().value(), "2");
}

TEST_F(Conformance, Kill9UnderLoadLosesNoAcknowledgedWrite) {
  std::mutex mu;
  std::map<std::string, std::string> acked;  // key -> value last acknowledged
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      auto stub =
          KV::NewStub(grpc::CreateChannel(server.endpoint(), grpc::InsecureChannelCredentials()));
      for (int i = 0; !stop; ++i) {
        // Creates, plus updates of a few hot keys (the value records the round).
        std::string key = i % 4 == 3 ? "/load/hot/" + std::to_string(t)
                                     : "/load/" + std::to_string(t) + "/" + std::to_string(i);
        PutRequest p;
        p.set_key(key);
        p.set_value(std::to_string(i) + std::string(200, 'v'));
        PutResponse out;
        grpc::ClientContext ctx;
        deadline(&ctx, 10s);
        if (!stub->Put(&ctx, p, &out).ok()) return;  // the server died
        std::lock_guard lock(mu);
        acked[key] = p.value();
      }
    });
  }
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu);
        return acked.size() >= 1000;
      },
      60s));
  server.kill9();
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_NO_THROW(server.start());
  connect();
  RangeRequest all;
  all.set_key("/load/");
  all.set_range_end("/load0");
  RangeResponse got;
  ASSERT_TRUE(range(all, &got).ok());
  std::map<std::string, std::string> present;
  for (const auto& item : got.kvs()) present[item.key()] = item.value();
  for (const auto& [key, value] : acked) {
    auto it = present.find(key);
    ASSERT_NE(it, present.end()) << "lost acknowledged key " << key;
    // A hot key may hold a newer (unacknowledged but committed) round, never an older one.
    EXPECT_GE(std::stoll(it->second), std::stoll(value)) << key;
  }
}

}  // namespace
}  // namespace cairn::datastore::testing
