// Leases: grant/revoke, expiry deleting attached keys with watch events, keep-alive,
// time-to-live with keys, persistence across restart.
#include "datastore/server/lessor.h"

#include <gtest/gtest.h>

#include <thread>

#include "datastore/server/errors.h"
#include "datastore/testing/server_fixture.h"

namespace cairn::datastore::server {
namespace {

using namespace etcdserverpb;
using testing::ServerFixture;

int64_t grant(ServerFixture& f, int64_t ttl, int64_t id = 0) {
  LeaseGrantRequest g;
  g.set_ttl(ttl);
  g.set_id(id);
  return f.call(&EtcdServer::lease_grant, g).id();
}

LeaseTimeToLiveResponse ttl(ServerFixture& f, int64_t id) {
  LeaseTimeToLiveRequest r;
  r.set_id(id);
  r.set_keys(true);
  return f.call(&EtcdServer::lease_time_to_live, r);
}

TEST(Lessor, GrantAttachRevokeDeletesKeys) {
  ServerFixture f;
  int64_t id = grant(f, 60);
  EXPECT_GT(id, 0);
  f.put("l/a", "1", id);
  f.put("l/b", "2", id);
  auto t = ttl(f, id);
  EXPECT_EQ(t.grantedttl(), 60);
  EXPECT_EQ(t.keys_size(), 2);
  EXPECT_EQ(f.server->lease_leases().leases_size(), 1);
  LeaseRevokeRequest rv;
  rv.set_id(id);
  auto rr = f.call(&EtcdServer::lease_revoke, rv);
  EXPECT_EQ(rr.header().revision(), 4);  // both deletes in one revision
  EXPECT_EQ(f.get("l/", "l0").kvs_size(), 0);
  EXPECT_EQ(ttl(f, id).ttl(), -1);
  try {
    f.call(&EtcdServer::lease_revoke, rv);
    FAIL();
  } catch (const RequestError& e) {
    EXPECT_STREQ(e.what(), "etcdserver: requested lease not found");
  }
}

TEST(Lessor, ChosenIdAndDuplicates) {
  ServerFixture f;
  EXPECT_EQ(grant(f, 10, 42), 42);
  try {
    grant(f, 10, 42);
    FAIL();
  } catch (const RequestError& e) {
    EXPECT_STREQ(e.what(), "etcdserver: lease already exists");
  }
}

TEST(Lessor, ExpiryDeletesKeysUnlessKeptAlive) {
  ServerFixture f;
  int64_t dying = grant(f, 2);
  int64_t kept = grant(f, 2);
  f.put("e/dying", "x", dying);
  f.put("e/kept", "x", kept);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (f.get("e/dying").kvs_size() != 0 && std::chrono::steady_clock::now() < deadline) {
    LeaseKeepAliveRequest ka;
    ka.set_id(kept);
    EXPECT_EQ(f.server->lease_keep_alive(ka).ttl(), 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(f.get("e/dying").kvs_size(), 0);
  EXPECT_EQ(f.get("e/kept").kvs_size(), 1);
  LeaseKeepAliveRequest gone;
  gone.set_id(dying);
  EXPECT_EQ(f.server->lease_keep_alive(gone).ttl(), 0);
}

TEST(Lessor, LeasesSurviveRestart) {
  ServerFixture f;
  int64_t id = grant(f, 100);
  f.put("p", "x", id);
  f.restart();
  auto t = ttl(f, id);
  EXPECT_EQ(t.grantedttl(), 100);
  ASSERT_EQ(t.keys_size(), 1);
  EXPECT_EQ(t.keys(0), "p");
}

}  // namespace
}  // namespace cairn::datastore::server
