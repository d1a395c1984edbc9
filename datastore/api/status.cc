#include "datastore/api/status.h"

#include "datastore/dqlite/client.h"
#include "datastore/mvcc/types.h"
#include "datastore/server/errors.h"

namespace cairn::datastore::api {

grpc::Status to_status(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const server::RequestError& e) {
    return grpc::Status(e.code(), e.what());
  } catch (const mvcc::StoreError& e) {
    switch (e.kind()) {
      case mvcc::ErrorKind::kCompacted:
        return grpc::Status(grpc::OUT_OF_RANGE,
                            "etcdserver: mvcc: required revision has been compacted");
      case mvcc::ErrorKind::kFutureRevision:
        return grpc::Status(grpc::OUT_OF_RANGE,
                            "etcdserver: mvcc: required revision is a future revision");
      case mvcc::ErrorKind::kUnavailable:
        return grpc::Status(grpc::UNAVAILABLE, e.what());
    }
  } catch (const dqlite::Error& e) {
    return grpc::Status(grpc::UNAVAILABLE, std::string("etcdserver: database: ") + e.what());
  } catch (const std::exception& e) {
    return grpc::Status(grpc::INTERNAL, e.what());
  } catch (...) {
  }
  return grpc::Status(grpc::INTERNAL, "unknown error");
}

}  // namespace cairn::datastore::api
