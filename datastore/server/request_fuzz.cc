// Arbitrary bytes as serialized etcd requests through the server-logic layer, against a
// real dqlite node: the first byte picks the request type (Range, Put, DeleteRange, Txn,
// Compaction, LeaseGrant, WatchCreate), the rest is parsed as that message. Every outcome
// must be a response or a RequestError/StoreError, never a crash.
#include <cstddef>
#include <cstdint>

#include "datastore/server/errors.h"
#include "datastore/testing/server_fixture.h"

using namespace etcdserverpb;
using cairn::datastore::server::EtcdServer;

namespace {

cairn::datastore::testing::ServerFixture& fixture() {
  static auto* f = new cairn::datastore::testing::ServerFixture();
  return *f;
}

class NullSink : public cairn::datastore::server::WatchSink {
 public:
  void send(WatchResponse&&) override {}
};

template <typename Msg>
bool parse(Msg& m, const uint8_t* data, size_t size) {
  return m.ParseFromArray(data, int(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto& f = fixture();
  const uint8_t* body = data + 1;
  size_t n = size - 1;
  try {
    switch (data[0] % 7) {
      case 0: {
        RangeRequest r;
        if (parse(r, body, n)) f.server->range(r);
        break;
      }
      case 1: {
        PutRequest r;
        if (parse(r, body, n)) f.call(&EtcdServer::put, r);
        break;
      }
      case 2: {
        DeleteRangeRequest r;
        if (parse(r, body, n)) f.call(&EtcdServer::delete_range, r);
        break;
      }
      case 3: {
        TxnRequest r;
        if (parse(r, body, n)) f.call(&EtcdServer::txn, r);
        break;
      }
      case 4: {
        CompactionRequest r;
        if (parse(r, body, n)) f.call(&EtcdServer::compact, r);
        break;
      }
      case 5: {
        LeaseGrantRequest r;
        if (parse(r, body, n)) f.call(&EtcdServer::lease_grant, r);
        break;
      }
      case 6: {
        WatchCreateRequest r;
        if (parse(r, body, n)) {
          auto sink = std::make_shared<NullSink>();
          f.server->watch_hub().create(sink, r);
          f.server->watch_hub().close(sink);
        }
        break;
      }
    }
  } catch (const cairn::datastore::server::RequestError&) {
  } catch (const cairn::datastore::mvcc::StoreError&) {
  }
  return 0;
}
