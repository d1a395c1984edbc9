// A kube-apiserver-shaped conformance suite over gRPC against the real binary: the
// create/update/delete/compaction Txn shapes, paginated lists at a fixed revision, watches
// with progress requests, and kill -9 under concurrent write load losing no acknowledged key.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "datastore/proto/rpc.grpc.pb.h"
#include "datastore/tests/datastore_process.h"

namespace cairn::datastore::tests {
namespace {

using namespace etcdserverpb;

class Conformance : public ::testing::Test {
 protected:
  void SetUp() override {
    ds.start();
    connect();
  }
  void connect() {
    channel = grpc::CreateChannel(ds.endpoint(), grpc::InsecureChannelCredentials());
    kv = KV::NewStub(channel);
    watch = Watch::NewStub(channel);
  }
  grpc::Status txn(const TxnRequest& r, TxnResponse* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return kv->Txn(&ctx, r, out);
  }
  RangeResponse range(const RangeRequest& r) {
    grpc::ClientContext ctx;
    RangeResponse out;
    auto st = kv->Range(&ctx, r, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

  DatastoreProcess ds;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<KV::Stub> kv;
  std::unique_ptr<Watch::Stub> watch;
};

TxnRequest guarded_put(const std::string& key, int64_t mod, const std::string& value) {
  TxnRequest t;
  auto* c = t.add_compare();
  c->set_key(key);
  c->set_target(Compare::MOD);
  c->set_result(Compare::EQUAL);
  c->set_mod_revision(mod);
  auto* p = t.add_success()->mutable_request_put();
  p->set_key(key);
  p->set_value(value);
  t.add_failure()->mutable_request_range()->set_key(key);
  return t;
}

TEST_F(Conformance, CreateUpdateDeleteShapes) {
  TxnResponse r;
  ASSERT_TRUE(txn(guarded_put("/registry/cm/a", 0, "v1"), &r).ok());
  EXPECT_TRUE(r.succeeded());
  int64_t rev = r.header().revision();
  ASSERT_TRUE(txn(guarded_put("/registry/cm/a", 0, "v1"), &r).ok());
  EXPECT_FALSE(r.succeeded());  // exists: the failure branch returns the object
  EXPECT_EQ(r.responses(0).response_range().kvs(0).mod_revision(), rev);
  ASSERT_TRUE(txn(guarded_put("/registry/cm/a", rev, "v2"), &r).ok());
  EXPECT_TRUE(r.succeeded());
  int64_t rev2 = r.header().revision();
  ASSERT_TRUE(txn(guarded_put("/registry/cm/a", rev, "v3"), &r).ok());
  EXPECT_FALSE(r.succeeded());  // stale update sees the current object
  EXPECT_EQ(r.responses(0).response_range().kvs(0).value(), "v2");

  TxnRequest del;
  auto* c = del.add_compare();
  c->set_key("/registry/cm/a");
  c->set_target(Compare::MOD);
  c->set_mod_revision(rev2);
  del.add_success()->mutable_request_delete_range()->set_key("/registry/cm/a");
  del.add_failure()->mutable_request_range()->set_key("/registry/cm/a");
  ASSERT_TRUE(txn(del, &r).ok());
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(r.responses(0).response_delete_range().deleted(), 1);

  // Compaction as kube-apiserver does it: bump compact_rev_key's version guarded by the
  // version it last saw, then Compact at the revision it read before.
  TxnRequest ck;
  auto* cc = ck.add_compare();
  cc->set_key("compact_rev_key");
  cc->set_target(Compare::VERSION);
  cc->set_version(0);
  auto* cp = ck.add_success()->mutable_request_put();
  cp->set_key("compact_rev_key");
  cp->set_value(std::to_string(rev2));
  ck.add_failure()->mutable_request_range()->set_key("compact_rev_key");
  ASSERT_TRUE(txn(ck, &r).ok());
  EXPECT_TRUE(r.succeeded());
  grpc::ClientContext ctx;
  CompactionRequest comp;
  comp.set_revision(rev2);
  CompactionResponse cr;
  ASSERT_TRUE(kv->Compact(&ctx, comp, &cr).ok());
  ASSERT_TRUE(txn(ck, &r).ok());
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.responses(0).response_range().kvs(0).version(), 1);
  RangeRequest old;
  old.set_key("/registry/cm/a");
  old.set_revision(rev);
  grpc::ClientContext ctx2;
  RangeResponse rr;
  auto st = kv->Range(&ctx2, old, &rr);
  EXPECT_EQ(st.error_code(), grpc::OUT_OF_RANGE);
  EXPECT_EQ(st.error_message(), "etcdserver: mvcc: required revision has been compacted");
}

TEST_F(Conformance, PaginatedListAtFixedRevision) {
  for (int i = 0; i < 25; ++i) {
    TxnResponse r;
    char key[64];
    snprintf(key, sizeof key, "/registry/pods/p%02d", i);
    ASSERT_TRUE(txn(guarded_put(key, 0, "x"), &r).ok());
  }
  RangeRequest first;
  first.set_key("/registry/pods/");
  first.set_range_end("/registry/pods0");
  first.set_limit(10);
  auto page = range(first);
  int64_t rev = page.header().revision();
  EXPECT_EQ(page.count(), 25);
  std::vector<std::string> seen;
  for (;;) {
    for (auto& item : page.kvs()) seen.push_back(item.key());
    // Writes between pages must not show up: the list is pinned at `rev`.
    TxnResponse r;
    ASSERT_TRUE(
        txn(guarded_put("/registry/pods/zz" + std::to_string(seen.size()), 0, "late"), &r).ok());
    if (!page.more()) break;
    RangeRequest next = first;
    next.set_key(page.kvs(page.kvs_size() - 1).key() + '\0');
    next.set_revision(rev);
    page = range(next);
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(Conformance, WatchWithProgressRequest) {
  grpc::ClientContext ctx;
  auto stream = watch->Watch(&ctx);
  WatchRequest create;
  auto* cr = create.mutable_create_request();
  cr->set_key("/registry/");
  cr->set_range_end("/registry0");
  cr->set_prev_kv(true);
  cr->set_progress_notify(true);
  ASSERT_TRUE(stream->Write(create));
  WatchResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_TRUE(resp.created());
  TxnResponse r;
  ASSERT_TRUE(txn(guarded_put("/registry/x", 0, "1"), &r).ok());
  ASSERT_TRUE(txn(guarded_put("/registry/x", r.header().revision(), "2"), &r).ok());
  int events = 0;
  while (events < 2 && stream->Read(&resp)) {
    for (auto& e : resp.events()) {
      ++events;
      if (events == 2) {
        EXPECT_EQ(e.prev_kv().value(), "1");
      }
    }
  }
  EXPECT_EQ(events, 2);
  WatchRequest progress;
  progress.mutable_progress_request();
  ASSERT_TRUE(stream->Write(progress));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.watch_id(), -1);
  EXPECT_EQ(resp.header().revision(), r.header().revision());
  EXPECT_EQ(resp.events_size(), 0);
  ctx.TryCancel();
}

TEST_F(Conformance, Kill9UnderLoadLosesNoAcknowledgedWrite) {
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      auto stub =
          KV::NewStub(grpc::CreateChannel(ds.endpoint(), grpc::InsecureChannelCredentials()));
      for (int i = 0; !stop; ++i) {
        PutRequest p;
        p.set_key("/load/" + std::to_string(t) + "/" + std::to_string(i));
        p.set_value(std::string(256, 'v'));
        PutResponse out;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        if (stub->Put(&ctx, p, &out).ok()) {
          std::lock_guard lock(mu);
          acked.insert(p.key());
        } else {
          return;  // the server died
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ds.kill9();
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_GT(acked.size(), 50u);
  ds.start();
  connect();
  RangeRequest all;
  all.set_key("/load/");
  all.set_range_end("/load0");
  all.set_keys_only(true);
  auto got = range(all);
  std::set<std::string> present;
  for (auto& item : got.kvs()) present.insert(item.key());
  for (auto& k : acked) EXPECT_TRUE(present.count(k)) << "lost acknowledged key " << k;
}

}  // namespace
}  // namespace cairn::datastore::tests
