// etcd KV semantics of the server layer against a real dqlite node.
#include "datastore/server/etcd_server.h"

#include <gtest/gtest.h>

#include "datastore/server/errors.h"
#include "datastore/server/validate.h"
#include "datastore/testing/server_fixture.h"

namespace cairn::datastore::server {
namespace {

using namespace etcdserverpb;
using testing::ServerFixture;

template <typename F>
RequestError error_of(F fn) {
  try {
    fn();
  } catch (const RequestError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a RequestError";
  return RequestError(grpc::OK, "");
}

Compare cmp(const std::string& key, Compare::CompareTarget target, Compare::CompareResult res,
            int64_t v) {
  Compare c;
  c.set_key(key);
  c.set_target(target);
  c.set_result(res);
  switch (target) {
    case Compare::VERSION:
      c.set_version(v);
      break;
    case Compare::CREATE:
      c.set_create_revision(v);
      break;
    case Compare::MOD:
      c.set_mod_revision(v);
      break;
    case Compare::LEASE:
      c.set_lease(v);
      break;
    default:
      break;
  }
  return c;
}

RequestOp put_op(const std::string& k, const std::string& v) {
  RequestOp op;
  op.mutable_request_put()->set_key(k);
  op.mutable_request_put()->set_value(v);
  return op;
}

RequestOp get_op(const std::string& k) {
  RequestOp op;
  op.mutable_request_range()->set_key(k);
  return op;
}

TEST(EtcdServer, HeadersCarryIdentityAndRevision) {
  ServerFixture f;
  auto r = f.put("a", "1");
  EXPECT_EQ(r.header().revision(), 2);
  EXPECT_EQ(r.header().cluster_id(), f.store->identity().cluster_id);
  EXPECT_EQ(r.header().member_id(), f.store->identity().member_id);
  EXPECT_EQ(r.header().raft_term(), kRaftTerm);
}

TEST(EtcdServer, RangeLimitMoreCountAndPrefix) {
  ServerFixture f;
  for (auto k : {"p/a", "p/b", "p/c", "p/d", "q"}) f.put(k, "v");
  RangeRequest r;
  r.set_key("p/");
  r.set_range_end("p0");
  r.set_limit(2);
  auto resp = f.server->range(r);
  ASSERT_EQ(resp.kvs_size(), 2);
  EXPECT_EQ(resp.kvs(0).key(), "p/a");
  EXPECT_TRUE(resp.more());
  EXPECT_EQ(resp.count(), 4);
  // Pagination as kube-apiserver does: continue after the last key at a fixed revision.
  r.set_key(resp.kvs(1).key() + '\0');
  r.set_revision(resp.header().revision());
  auto page2 = f.server->range(r);
  ASSERT_EQ(page2.kvs_size(), 2);
  EXPECT_EQ(page2.kvs(0).key(), "p/c");
  EXPECT_FALSE(page2.more());
  // Everything from a key on ("\0" end) and every key.
  EXPECT_EQ(f.get("p/c", std::string(1, '\0')).kvs_size(), 3);
  EXPECT_EQ(f.get(std::string(1, '\0'), std::string(1, '\0')).kvs_size(), 5);
}

TEST(EtcdServer, RangeCountOnlyKeysOnlySortAndFilters) {
  ServerFixture f;
  f.put("s/1", "c");
  f.put("s/2", "a");
  f.put("s/3", "b");
  f.put("s/1", "d");  // s/1: version 2, mod 5
  RangeRequest r;
  r.set_key("s/");
  r.set_range_end("s0");
  r.set_count_only(true);
  auto c = f.server->range(r);
  EXPECT_EQ(c.count(), 3);
  EXPECT_EQ(c.kvs_size(), 0);
  r.set_count_only(false);
  r.set_keys_only(true);
  auto k = f.server->range(r);
  ASSERT_EQ(k.kvs_size(), 3);
  EXPECT_TRUE(k.kvs(0).value().empty());
  r.set_keys_only(false);
  r.set_sort_target(RangeRequest::VALUE);
  r.set_sort_order(RangeRequest::DESCEND);
  auto s = f.server->range(r);
  ASSERT_EQ(s.kvs_size(), 3);
  EXPECT_EQ(s.kvs(0).value(), "d");
  EXPECT_EQ(s.kvs(2).value(), "a");
  r.set_sort_target(RangeRequest::MOD);
  r.set_sort_order(RangeRequest::NONE);  // a non-key target defaults to ascending
  r.set_limit(1);
  auto m = f.server->range(r);
  ASSERT_EQ(m.kvs_size(), 1);
  EXPECT_EQ(m.kvs(0).key(), "s/2");
  EXPECT_TRUE(m.more());
  RangeRequest flt;
  flt.set_key("s/");
  flt.set_range_end("s0");
  flt.set_min_mod_revision(4);
  auto fm = f.server->range(flt);
  ASSERT_EQ(fm.kvs_size(), 2);  // s/3 (mod 4) and s/1 (mod 5)
  flt.set_min_mod_revision(0);
  flt.set_max_create_revision(2);
  auto fc = f.server->range(flt);
  ASSERT_EQ(fc.kvs_size(), 1);
  EXPECT_EQ(fc.kvs(0).key(), "s/1");
}

TEST(EtcdServer, RangeAtRevisionCompactedAndFuture) {
  ServerFixture f;
  f.put("r", "1");  // 2
  f.put("r", "2");  // 3
  f.put("r", "3");  // 4
  EXPECT_EQ(f.get("r", "", 2).kvs(0).value(), "1");
  auto fut = error_of([&] { f.get("r", "", 99); });
  EXPECT_EQ(fut.code(), grpc::OUT_OF_RANGE);
  EXPECT_STREQ(fut.what(), "etcdserver: mvcc: required revision is a future revision");
  f.compact(3);
  auto comp = error_of([&] { f.get("r", "", 2); });
  EXPECT_EQ(comp.code(), grpc::OUT_OF_RANGE);
  EXPECT_STREQ(comp.what(), "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(f.get("r", "", 3).kvs(0).value(), "2");
  auto again = error_of([&] { f.compact(3); });
  EXPECT_STREQ(again.what(), "etcdserver: mvcc: required revision has been compacted");
  auto future_compact = error_of([&] { f.compact(100); });
  EXPECT_STREQ(future_compact.what(), "etcdserver: mvcc: required revision is a future revision");
}

TEST(EtcdServer, PutPrevKvIgnoreValueIgnoreLeaseAndErrors) {
  ServerFixture f;
  f.put("k", "v1");
  PutRequest p;
  p.set_key("k");
  p.set_value("v2");
  p.set_prev_kv(true);
  auto r = f.call(&EtcdServer::put, p);
  EXPECT_EQ(r.prev_kv().value(), "v1");
  EXPECT_EQ(r.prev_kv().version(), 1);

  PutRequest iv;
  iv.set_key("k");
  iv.set_ignore_value(true);
  f.call(&EtcdServer::put, iv);
  auto kv = f.get("k").kvs(0);
  EXPECT_EQ(kv.value(), "v2");
  EXPECT_EQ(kv.version(), 3);

  iv.set_key("missing");
  auto nf = error_of([&] { f.call(&EtcdServer::put, iv); });
  EXPECT_STREQ(nf.what(), "etcdserver: key not found");
  iv.set_key("k");
  iv.set_value("x");
  EXPECT_STREQ(error_of([&] { f.call(&EtcdServer::put, iv); }).what(),
               "etcdserver: value is provided");
  PutRequest bad_lease;
  bad_lease.set_key("k");
  bad_lease.set_lease(12345);
  auto ln = error_of([&] { f.call(&EtcdServer::put, bad_lease); });
  EXPECT_EQ(ln.code(), grpc::NOT_FOUND);
  EXPECT_STREQ(ln.what(), "etcdserver: requested lease not found");
  PutRequest empty;
  EXPECT_STREQ(error_of([&] { f.call(&EtcdServer::put, empty); }).what(),
               "etcdserver: key is not provided");
}

TEST(EtcdServer, DeleteRangeWithPrevKv) {
  ServerFixture f;
  f.put("d/1", "a");
  f.put("d/2", "b");
  DeleteRangeRequest d;
  d.set_key("d/");
  d.set_range_end("d0");
  d.set_prev_kv(true);
  auto r = f.call(&EtcdServer::delete_range, d);
  EXPECT_EQ(r.deleted(), 2);
  ASSERT_EQ(r.prev_kvs_size(), 2);
  EXPECT_EQ(r.prev_kvs(1).value(), "b");
  EXPECT_EQ(r.header().revision(), 4);
  auto none = f.del("d/");
  EXPECT_EQ(none.deleted(), 0);
  EXPECT_EQ(none.header().revision(), 4);  // no revision for deleting nothing
}

TEST(EtcdServer, TxnComparesEveryTargetAndResult) {
  ServerFixture f;
  f.put("t", "val");  // create 2, mod 2, version 1
  struct Case {
    Compare c;
    bool want;
  };
  std::vector<Case> cases = {
      {cmp("t", Compare::VERSION, Compare::EQUAL, 1), true},
      {cmp("t", Compare::VERSION, Compare::GREATER, 0), true},
      {cmp("t", Compare::CREATE, Compare::LESS, 2), false},
      {cmp("t", Compare::MOD, Compare::NOT_EQUAL, 2), false},
      {cmp("t", Compare::LEASE, Compare::EQUAL, 0), true},
      {cmp("missing", Compare::MOD, Compare::EQUAL, 0), true},
      {cmp("missing", Compare::VERSION, Compare::GREATER, 0), false},
  };
  Compare v;
  v.set_key("t");
  v.set_target(Compare::VALUE);
  v.set_value("val");
  cases.push_back({v, true});
  v.set_result(Compare::GREATER);
  v.set_value("abc");
  cases.push_back({v, true});
  v.set_key("missing");
  v.set_result(Compare::NOT_EQUAL);
  cases.push_back({v, false});  // a missing key's value never compares
  for (size_t i = 0; i < cases.size(); ++i) {
    TxnRequest t;
    *t.add_compare() = cases[i].c;
    EXPECT_EQ(f.txn(t).succeeded(), cases[i].want) << "case " << i;
  }
}

TEST(EtcdServer, TxnRangeEndCompareAppliesToEveryKey) {
  ServerFixture f;
  f.put("m/1", "x");
  f.put("m/2", "x");
  TxnRequest t;
  auto c = cmp("m/", Compare::VERSION, Compare::EQUAL, 1);
  c.set_range_end("m0");
  *t.add_compare() = c;
  EXPECT_TRUE(f.txn(t).succeeded());
  f.put("m/2", "y");
  EXPECT_FALSE(f.txn(t).succeeded());
}

TEST(EtcdServer, TxnIsOneRevisionAndReadsItsOwnWrites) {
  ServerFixture f;
  TxnRequest t;
  *t.add_success() = put_op("a", "1");
  *t.add_success() = put_op("b", "2");
  *t.add_success() = get_op("a");
  auto r = f.txn(t);
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(r.header().revision(), 2);
  ASSERT_EQ(r.responses_size(), 3);
  ASSERT_EQ(r.responses(2).response_range().kvs_size(), 1);
  EXPECT_EQ(r.responses(2).response_range().kvs(0).value(), "1");
  EXPECT_EQ(f.get("b").kvs(0).mod_revision(), 2);
}

TEST(EtcdServer, NestedTxnChoosesBranchesUpFront) {
  ServerFixture f;
  f.put("n", "1");
  TxnRequest inner;
  *inner.add_compare() = cmp("n", Compare::VERSION, Compare::EQUAL, 1);
  *inner.add_success() = put_op("inner-success", "x");
  *inner.add_failure() = put_op("inner-failure", "x");
  TxnRequest outer;
  *outer.add_success() = put_op("n", "2");  // bumps n's version before the inner txn runs
  *outer.add_success()->mutable_request_txn() = inner;
  auto r = f.txn(outer);
  ASSERT_EQ(r.responses_size(), 2);
  EXPECT_TRUE(r.responses(1).response_txn().succeeded());  // evaluated before the put
  EXPECT_EQ(f.get("inner-success").kvs_size(), 1);
  EXPECT_EQ(f.get("inner-failure").kvs_size(), 0);
}

TEST(EtcdServer, TxnRejectsDuplicateKeysAndTooManyOps) {
  ServerFixture f;
  TxnRequest dup;
  *dup.add_success() = put_op("x", "1");
  *dup.add_success() = put_op("x", "2");
  auto e = error_of([&] { f.txn(dup); });
  EXPECT_EQ(e.code(), grpc::INVALID_ARGUMENT);
  EXPECT_STREQ(e.what(), "etcdserver: duplicate key given in txn request");
  TxnRequest overlap;
  *overlap.add_success() = put_op("y/1", "1");
  auto* d = overlap.add_success()->mutable_request_delete_range();
  d->set_key("y/");
  d->set_range_end("y0");
  EXPECT_STREQ(error_of([&] { f.txn(overlap); }).what(),
               "etcdserver: duplicate key given in txn request");
  TxnRequest many;
  for (int i = 0; i <= kMaxTxnOps; ++i) *many.add_success() = get_op("k" + std::to_string(i));
  EXPECT_STREQ(error_of([&] { f.txn(many); }).what(),
               "etcdserver: too many operations in txn request");
}

TEST(EtcdServer, KubeApiserverCreateUpdateDeleteShapes) {
  ServerFixture f;
  auto create = [&](const std::string& key, const std::string& v) {
    TxnRequest t;
    *t.add_compare() = cmp(key, Compare::MOD, Compare::EQUAL, 0);
    *t.add_success() = put_op(key, v);
    return f.txn(t);
  };
  auto cr = create("/registry/pods/a", "v1");
  EXPECT_TRUE(cr.succeeded());
  int64_t rev = cr.header().revision();
  EXPECT_FALSE(create("/registry/pods/a", "v1").succeeded());  // AlreadyExists

  TxnRequest upd;
  *upd.add_compare() = cmp("/registry/pods/a", Compare::MOD, Compare::EQUAL, rev);
  *upd.add_success() = put_op("/registry/pods/a", "v2");
  *upd.add_failure() = get_op("/registry/pods/a");
  auto ur = f.txn(upd);
  EXPECT_TRUE(ur.succeeded());
  auto stale = f.txn(upd);  // same expected revision again: conflict, returns current
  EXPECT_FALSE(stale.succeeded());
  ASSERT_EQ(stale.responses(0).response_range().kvs_size(), 1);
  EXPECT_EQ(stale.responses(0).response_range().kvs(0).value(), "v2");

  TxnRequest del;
  *del.add_compare() =
      cmp("/registry/pods/a", Compare::MOD, Compare::EQUAL, ur.header().revision());
  auto* dop = del.add_success()->mutable_request_delete_range();
  dop->set_key("/registry/pods/a");
  dop->set_prev_kv(true);
  *del.add_failure() = get_op("/registry/pods/a");
  auto dr = f.txn(del);
  EXPECT_TRUE(dr.succeeded());
  EXPECT_EQ(dr.responses(0).response_delete_range().prev_kvs(0).value(), "v2");

  // kube-apiserver's compaction: a txn on "compact_rev_key"'s version, then Compact.
  TxnRequest ck;
  *ck.add_compare() = cmp("compact_rev_key", Compare::VERSION, Compare::EQUAL, 0);
  *ck.add_success() = put_op("compact_rev_key", std::to_string(dr.header().revision()));
  *ck.add_failure() = get_op("compact_rev_key");
  auto ckr = f.txn(ck);
  EXPECT_TRUE(ckr.succeeded());
  f.compact(dr.header().revision());
  EXPECT_FALSE(f.txn(ck).succeeded());  // another apiserver won this round
}

TEST(EtcdServer, DataSurvivesRestart) {
  ServerFixture f;
  f.put("persist", "yes");
  f.restart();
  auto r = f.get("persist");
  ASSERT_EQ(r.kvs_size(), 1);
  EXPECT_EQ(r.kvs(0).value(), "yes");
  EXPECT_EQ(f.put("next", "x").header().revision(), 3);
}

TEST(EtcdServer, StatusMemberListAndHash) {
  ServerFixture f;
  f.put("h", "1");
  auto st = f.server->status();
  EXPECT_EQ(st.version(), kEtcdVersion);
  EXPECT_GT(st.dbsize(), 0);
  EXPECT_EQ(st.leader(), f.store->identity().member_id);
  auto ml = f.server->member_list();
  ASSERT_EQ(ml.members_size(), 1);
  EXPECT_EQ(ml.members(0).clienturls(0), "unix:///test.sock");
  HashKVRequest hr;
  auto h1 = f.server->hash_kv(hr);
  EXPECT_EQ(f.server->hash_kv(hr).hash(), h1.hash());
  f.put("h", "2");
  EXPECT_NE(f.server->hash_kv(hr).hash(), h1.hash());
  hr.set_revision(2);
  EXPECT_EQ(f.server->hash_kv(hr).hash(), h1.hash());
}

}  // namespace
}  // namespace cairn::datastore::server
