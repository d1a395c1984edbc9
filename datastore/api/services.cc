#include "datastore/api/services.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "datastore/api/bidi_queue.h"
#include "datastore/api/executor.h"
#include "datastore/api/status.h"
#include "datastore/proto/rpc.grpc.pb.h"
#include "datastore/server/errors.h"

namespace cairn::datastore::api {

using namespace etcdserverpb;
using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

namespace {

// Completes a unary call from a server-layer reply.
template <typename Resp>
server::EtcdServer::Reply<Resp> finisher(ServerUnaryReactor* reactor, Resp* out) {
  return [reactor, out](std::exception_ptr err, Resp& resp) {
    if (err) {
      reactor->Finish(to_status(err));
      return;
    }
    out->Swap(&resp);
    reactor->Finish(grpc::Status::OK);
  };
}

// Runs a blocking call on the executor and finishes the reactor with its result.
template <typename Resp, typename F>
ServerUnaryReactor* blocking(CallbackServerContext* ctx, Executor& exec, Resp* out, F fn) {
  auto* reactor = ctx->DefaultReactor();
  exec.post([reactor, out, fn = std::move(fn)] {
    try {
      *out = fn();
      reactor->Finish(grpc::Status::OK);
    } catch (...) {
      reactor->Finish(to_status(std::current_exception()));
    }
  });
  return reactor;
}

template <typename F>
ServerUnaryReactor* guarded(CallbackServerContext* ctx, F fn) {
  auto* reactor = ctx->DefaultReactor();
  try {
    fn(reactor);
  } catch (...) {
    reactor->Finish(to_status(std::current_exception()));
  }
  return reactor;
}

class KvService final : public KV::CallbackService {
 public:
  KvService(server::EtcdServer& s, Executor& e) : s_(s), e_(e) {}

  ServerUnaryReactor* Range(CallbackServerContext* ctx, const RangeRequest* req,
                            RangeResponse* resp) override {
    return blocking(ctx, e_, resp, [this, req] { return s_.range(*req); });
  }
  ServerUnaryReactor* Put(CallbackServerContext* ctx, const PutRequest* req,
                          PutResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) { s_.put(*req, finisher(r, resp)); });
  }
  ServerUnaryReactor* DeleteRange(CallbackServerContext* ctx, const DeleteRangeRequest* req,
                                  DeleteRangeResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) { s_.delete_range(*req, finisher(r, resp)); });
  }
  ServerUnaryReactor* Txn(CallbackServerContext* ctx, const TxnRequest* req,
                          TxnResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) { s_.txn(*req, finisher(r, resp)); });
  }
  ServerUnaryReactor* Compact(CallbackServerContext* ctx, const CompactionRequest* req,
                              CompactionResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) { s_.compact(*req, finisher(r, resp)); });
  }

 private:
  server::EtcdServer& s_;
  Executor& e_;
};

// --- Watch ---

class WatchReactor;

// The hub's handle on a stream; detached when the stream is done.
class StreamSink : public server::WatchSink {
 public:
  explicit StreamSink(WatchReactor* r) : reactor_(r) {}
  void send(WatchResponse&& response) override;
  void detach() {
    std::lock_guard lock(mu_);
    reactor_ = nullptr;
  }

 private:
  std::mutex mu_;
  WatchReactor* reactor_;
};

class WatchReactor final : public QueuedBidiReactor<WatchRequest, WatchResponse> {
 public:
  explicit WatchReactor(server::WatchHub& hub)
      : hub_(hub), sink_(std::make_shared<StreamSink>(this)) {
    begin();
  }
  void OnDone() override {
    sink_->detach();
    hub_.close(sink_);
    delete this;
  }

 protected:
  void on_request(const WatchRequest& r) override {
    switch (r.request_union_case()) {
      case WatchRequest::kCreateRequest:
        hub_.create(sink_, r.create_request());
        break;
      case WatchRequest::kCancelRequest:
        hub_.cancel(sink_, r.cancel_request().watch_id());
        break;
      case WatchRequest::kProgressRequest:
        hub_.progress(sink_);
        break;
      case WatchRequest::REQUEST_UNION_NOT_SET:
        break;
    }
  }
  void on_read_closed() override { hub_.close(sink_); }

 private:
  server::WatchHub& hub_;
  std::shared_ptr<StreamSink> sink_;
};

void StreamSink::send(WatchResponse&& response) {
  std::lock_guard lock(mu_);
  if (reactor_) reactor_->enqueue(std::move(response));
}

class WatchService final : public Watch::CallbackService {
 public:
  explicit WatchService(server::EtcdServer& s) : s_(s) {}
  grpc::ServerBidiReactor<WatchRequest, WatchResponse>* Watch(CallbackServerContext*) override {
    return new WatchReactor(s_.watch_hub());
  }

 private:
  server::EtcdServer& s_;
};

// --- Lease ---

class KeepAliveReactor final
    : public QueuedBidiReactor<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
 public:
  explicit KeepAliveReactor(server::EtcdServer& s) : s_(s) { begin(); }
  void OnDone() override { delete this; }

 protected:
  void on_request(const LeaseKeepAliveRequest& r) override { enqueue(s_.lease_keep_alive(r)); }

 private:
  server::EtcdServer& s_;
};

class LeaseService final : public Lease::CallbackService {
 public:
  explicit LeaseService(server::EtcdServer& s) : s_(s) {}
  ServerUnaryReactor* LeaseGrant(CallbackServerContext* ctx, const LeaseGrantRequest* req,
                                 LeaseGrantResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) { s_.lease_grant(*req, finisher(r, resp)); });
  }
  ServerUnaryReactor* LeaseRevoke(CallbackServerContext* ctx, const LeaseRevokeRequest* req,
                                  LeaseRevokeResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) { s_.lease_revoke(*req, finisher(r, resp)); });
  }
  ServerUnaryReactor* LeaseTimeToLive(CallbackServerContext* ctx, const LeaseTimeToLiveRequest* req,
                                      LeaseTimeToLiveResponse* resp) override {
    return guarded(ctx,
                   [&](ServerUnaryReactor* r) { s_.lease_time_to_live(*req, finisher(r, resp)); });
  }
  ServerUnaryReactor* LeaseLeases(CallbackServerContext* ctx, const LeaseLeasesRequest*,
                                  LeaseLeasesResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) {
      *resp = s_.lease_leases();
      r->Finish(grpc::Status::OK);
    });
  }
  grpc::ServerBidiReactor<LeaseKeepAliveRequest, LeaseKeepAliveResponse>* LeaseKeepAlive(
      CallbackServerContext*) override {
    return new KeepAliveReactor(s_);
  }

 private:
  server::EtcdServer& s_;
};

// --- Maintenance, Cluster, Auth ---

class MaintenanceService final : public Maintenance::CallbackService {
 public:
  MaintenanceService(server::EtcdServer& s, Executor& e) : s_(s), e_(e) {}
  ServerUnaryReactor* Status(CallbackServerContext* ctx, const StatusRequest*,
                             StatusResponse* resp) override {
    return blocking(ctx, e_, resp, [this] { return s_.status(); });
  }
  ServerUnaryReactor* Alarm(CallbackServerContext* ctx, const AlarmRequest* req,
                            AlarmResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) {
      *resp = s_.alarm(*req);
      r->Finish(grpc::Status::OK);
    });
  }
  ServerUnaryReactor* Defragment(CallbackServerContext* ctx, const DefragmentRequest*,
                                 DefragmentResponse* resp) override {
    // SQLite pages are reused in place and compaction frees them; nothing to do.
    return guarded(ctx, [&](ServerUnaryReactor* r) {
      s_.header(resp->mutable_header(), s_.store().revision());
      r->Finish(grpc::Status::OK);
    });
  }
  ServerUnaryReactor* Hash(CallbackServerContext* ctx, const HashRequest*,
                           HashResponse* resp) override {
    return blocking(ctx, e_, resp, [this] { return s_.hash(); });
  }
  ServerUnaryReactor* HashKV(CallbackServerContext* ctx, const HashKVRequest* req,
                             HashKVResponse* resp) override {
    return blocking(ctx, e_, resp, [this, req] { return s_.hash_kv(*req); });
  }

 private:
  server::EtcdServer& s_;
  Executor& e_;
};

class ClusterService final : public Cluster::CallbackService {
 public:
  explicit ClusterService(server::EtcdServer& s) : s_(s) {}
  ServerUnaryReactor* MemberList(CallbackServerContext* ctx, const MemberListRequest*,
                                 MemberListResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) {
      *resp = s_.member_list();
      r->Finish(grpc::Status::OK);
    });
  }

 private:
  server::EtcdServer& s_;
};

class AuthService final : public Auth::CallbackService {
 public:
  explicit AuthService(server::EtcdServer& s) : s_(s) {}
  ServerUnaryReactor* AuthStatus(CallbackServerContext* ctx, const AuthStatusRequest*,
                                 AuthStatusResponse* resp) override {
    return guarded(ctx, [&](ServerUnaryReactor* r) {
      s_.header(resp->mutable_header(), s_.store().revision());
      resp->set_enabled(false);
      r->Finish(grpc::Status::OK);
    });
  }
  ServerUnaryReactor* Authenticate(CallbackServerContext* ctx, const AuthenticateRequest*,
                                   AuthenticateResponse*) override {
    auto* r = ctx->DefaultReactor();
    auto e = server::errors::auth_not_enabled();
    r->Finish(grpc::Status(e.code(), e.what()));
    return r;
  }

 private:
  server::EtcdServer& s_;
};

}  // namespace

struct Services::Impl {
  Impl(server::EtcdServer& s, size_t threads)
      : exec(threads), kv(s, exec), watch(s), lease(s), maintenance(s, exec), cluster(s), auth(s) {}
  Executor exec;
  KvService kv;
  WatchService watch;
  LeaseService lease;
  MaintenanceService maintenance;
  ClusterService cluster;
  AuthService auth;
};

Services::Services(server::EtcdServer& server, size_t read_threads)
    : impl_(std::make_unique<Impl>(server, read_threads)) {}
Services::~Services() = default;

void Services::register_with(grpc::ServerBuilder& builder) {
  builder.RegisterService(&impl_->kv);
  builder.RegisterService(&impl_->watch);
  builder.RegisterService(&impl_->lease);
  builder.RegisterService(&impl_->maintenance);
  builder.RegisterService(&impl_->cluster);
  builder.RegisterService(&impl_->auth);
}

void configure_builder(grpc::ServerBuilder& builder) {
  // Debian builds abseil without NDEBUG, so every absl::Mutex gRPC locks feeds a global
  // lock-order graph (GraphCycles, under one global lock) for deadlock detection: ~2% of
  // the CPU under `check perf --load=l` and a point of contention between gRPC's threads.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  builder.SetMaxReceiveMessageSize(int(1.5 * 1024 * 1024) + 512 * 1024);
  builder.SetMaxSendMessageSize(INT32_MAX);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
}

}  // namespace cairn::datastore::api
