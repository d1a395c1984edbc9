// Maps the server layer's exceptions to the gRPC status etcd would send.
#pragma once

#include <grpcpp/support/status.h>

#include <exception>

namespace cairn::datastore::api {

grpc::Status to_status(std::exception_ptr error);

}  // namespace cairn::datastore::api
