// etcd's request errors (api/v3rpc/rpctypes): the gRPC status code and the exact message
// etcd sends, so clients that match on them (clientv3, kube-apiserver) behave the same.
#pragma once

#include <grpcpp/support/status_code_enum.h>

#include <stdexcept>
#include <string>

namespace cairn::datastore::server {

class RequestError : public std::runtime_error {
 public:
  RequestError(grpc::StatusCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  grpc::StatusCode code() const noexcept { return code_; }

 private:
  grpc::StatusCode code_;
};

namespace errors {
inline RequestError empty_key() {
  return {grpc::INVALID_ARGUMENT, "etcdserver: key is not provided"};
}
inline RequestError key_not_found() {
  return {grpc::INVALID_ARGUMENT, "etcdserver: key not found"};
}
inline RequestError value_provided() {
  return {grpc::INVALID_ARGUMENT, "etcdserver: value is provided"};
}
inline RequestError lease_provided() {
  return {grpc::INVALID_ARGUMENT, "etcdserver: lease is provided"};
}
inline RequestError too_many_ops() {
  return {grpc::INVALID_ARGUMENT, "etcdserver: too many operations in txn request"};
}
inline RequestError duplicate_key() {
  return {grpc::INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"};
}
inline RequestError compacted() {
  return {grpc::OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"};
}
inline RequestError future_revision() {
  return {grpc::OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"};
}
inline RequestError lease_not_found() {
  return {grpc::NOT_FOUND, "etcdserver: requested lease not found"};
}
inline RequestError lease_exists() {
  return {grpc::FAILED_PRECONDITION, "etcdserver: lease already exists"};
}
inline RequestError lease_ttl_too_large() {
  return {grpc::OUT_OF_RANGE, "etcdserver: too large lease TTL"};
}
inline RequestError request_too_large() {
  return {grpc::INVALID_ARGUMENT, "etcdserver: request is too large"};
}
inline RequestError auth_not_enabled() {
  return {grpc::FAILED_PRECONDITION, "etcdserver: authentication is not enabled"};
}
inline RequestError not_capable() {
  return {grpc::UNAVAILABLE, "etcdserver: not capable"};
}
inline RequestError unavailable(const std::string& why) {
  return {grpc::UNAVAILABLE, "etcdserver: " + why};
}
}  // namespace errors

}  // namespace cairn::datastore::server
