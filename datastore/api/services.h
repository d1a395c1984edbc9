// The etcd v3 gRPC services (callback API) over server::EtcdServer: KV, Watch, Lease,
// Maintenance, Cluster, and the slice of Auth that clients probe (status: disabled).
// Unary writes complete from the writer thread after their commit; reads that block on SQL
// run on an Executor; streams use QueuedBidiReactor.
#pragma once

#include <grpcpp/server_builder.h>

#include <memory>

#include "datastore/server/etcd_server.h"

namespace cairn::datastore::api {

class Services {
 public:
  Services(server::EtcdServer& server, size_t read_threads);
  ~Services();
  // Registers every service with the builder (the Services must outlive the grpc::Server).
  void register_with(grpc::ServerBuilder& builder);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Server arguments etcd clients need: message sizes as etcd's defaults, and permissive
// keepalive enforcement (etcdctl pings every 2 s). Also turns off abseil's debug-mode mutex
// deadlock detection for the whole process (a global lock-order graph gRPC's mutexes feed).
void configure_builder(grpc::ServerBuilder& builder);

}  // namespace cairn::datastore::api
