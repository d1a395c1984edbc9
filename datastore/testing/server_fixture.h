// Test fixture: a real dqlite node, the MVCC store and the etcd server logic on top, with
// blocking wrappers around the asynchronous write calls.
#pragma once

#include <future>
#include <memory>

#include "datastore/mvcc/store.h"
#include "datastore/server/etcd_server.h"
#include "datastore/testing/temp_node.h"

namespace cairn::datastore::testing {

class ServerFixture {
 public:
  explicit ServerFixture(std::chrono::milliseconds progress = std::chrono::minutes(10))
      : progress_(progress) {
    open();
  }
  ~ServerFixture() { close(); }

  void open() {
    mvcc::StoreOptions o;
    o.client = node.client_options();
    store = mvcc::Store::open(o);
    server::ServerOptions so;
    so.progress_interval = progress_;
    so.client_urls = {"unix:///test.sock"};
    server = std::make_unique<server::EtcdServer>(*store, so);
    server->start();
  }
  void close() {
    if (server) server->stop();
    server.reset();
    store.reset();
  }
  // Closes everything, restarts the dqlite node on the same data, opens again.
  void restart() {
    close();
    node.restart();
    open();
  }

  template <typename Resp, typename Req>
  Resp call(void (server::EtcdServer::*method)(Req, server::EtcdServer::Reply<Resp>), Req req) {
    auto p = std::make_shared<std::promise<Resp>>();
    auto f = p->get_future();
    (server.get()->*method)(std::move(req), [p](std::exception_ptr e, Resp& r) {
      if (e) {
        p->set_exception(e);
      } else {
        p->set_value(r);
      }
    });
    return f.get();
  }

  etcdserverpb::PutResponse put(const std::string& k, const std::string& v, int64_t lease = 0) {
    etcdserverpb::PutRequest r;
    r.set_key(k);
    r.set_value(v);
    r.set_lease(lease);
    return call(&server::EtcdServer::put, r);
  }
  etcdserverpb::RangeResponse get(const std::string& k, const std::string& end = "",
                                  int64_t rev = 0) {
    etcdserverpb::RangeRequest r;
    r.set_key(k);
    r.set_range_end(end);
    r.set_revision(rev);
    return server->range(r);
  }
  etcdserverpb::DeleteRangeResponse del(const std::string& k, const std::string& end = "") {
    etcdserverpb::DeleteRangeRequest r;
    r.set_key(k);
    r.set_range_end(end);
    return call(&server::EtcdServer::delete_range, r);
  }
  etcdserverpb::TxnResponse txn(const etcdserverpb::TxnRequest& r) {
    return call(&server::EtcdServer::txn, r);
  }
  void compact(int64_t rev) {
    etcdserverpb::CompactionRequest r;
    r.set_revision(rev);
    call(&server::EtcdServer::compact, r);
  }

  TempNode node;
  std::unique_ptr<mvcc::Store> store;
  std::unique_ptr<server::EtcdServer> server;

 private:
  std::chrono::milliseconds progress_;
};

}  // namespace cairn::datastore::testing
