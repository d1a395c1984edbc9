#include "datastore/server/validate.h"

#include <gtest/gtest.h>

#include "datastore/server/errors.h"

namespace cairn::datastore::server {
namespace {

using namespace etcdserverpb;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const RequestError& e) {
    return e.what();
  }
  return "";
}

TEST(Validate, EmptyKeysAndBadSortOptions) {
  RangeRequest r;
  EXPECT_EQ(error_of([&] { check_range(r); }), "etcdserver: key is not provided");
  r.set_key("a");
  r.set_sort_order(static_cast<RangeRequest::SortOrder>(9));
  EXPECT_EQ(error_of([&] { check_range(r); }), "etcdserver: invalid sort option");
  DeleteRangeRequest d;
  EXPECT_EQ(error_of([&] { check_delete(d); }), "etcdserver: key is not provided");
}

TEST(Validate, PutIgnoreFlags) {
  PutRequest p;
  p.set_key("k");
  p.set_ignore_lease(true);
  p.set_lease(3);
  EXPECT_EQ(error_of([&] { check_put(p); }), "etcdserver: lease is provided");
}

TEST(Validate, NestedTxnDuplicatesAgainstParent) {
  TxnRequest t;
  t.add_success()->mutable_request_put()->set_key("a");
  auto* nested = t.add_success()->mutable_request_txn();
  nested->add_success()->mutable_request_put()->set_key("a");
  EXPECT_EQ(error_of([&] { check_txn(t); }), "etcdserver: duplicate key given in txn request");
  TxnRequest ok;
  ok.add_success()->mutable_request_put()->set_key("a");
  ok.add_failure()->mutable_request_put()->set_key("a");  // different branches: fine
  EXPECT_EQ(error_of([&] { check_txn(ok); }), "");
  TxnRequest empty_compare;
  empty_compare.add_compare();
  EXPECT_EQ(error_of([&] { check_txn(empty_compare); }), "etcdserver: key is not provided");
}

}  // namespace
}  // namespace cairn::datastore::server
