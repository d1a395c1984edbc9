// A pool of dqlite connections for reads (Range, watch replay, status). A connection that
// failed with a transport error is dropped and replaced on next use.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "datastore/dqlite/client.h"
#include "datastore/mvcc/connection.h"

namespace cairn::datastore::mvcc {

class ReaderPool {
 public:
  ReaderPool(dqlite::ClientOptions options, std::string database, size_t size);

  // Runs fn on a connection of the pool, waiting for a free one. Exceptions propagate.
  template <typename F>
  auto with(F&& fn) -> decltype(fn(std::declval<Connection&>())) {
    auto conn = acquire();
    try {
      if constexpr (std::is_void_v<decltype(fn(*conn))>) {
        fn(*conn);
        release(std::move(conn), true);
      } else {
        auto result = fn(*conn);
        release(std::move(conn), true);
        return result;
      }
    } catch (const dqlite::Error& e) {
      release(std::move(conn), !e.transport());
      throw;
    } catch (...) {
      release(std::move(conn), true);
      throw;
    }
  }

  // Opens a fresh connection to the database (also used by the writer).
  std::unique_ptr<Connection> connect() const;

 private:
  std::unique_ptr<Connection> acquire();
  void release(std::unique_ptr<Connection> conn, bool reusable);

  dqlite::ClientOptions options_;
  std::string database_;
  size_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t outstanding_ = 0;
};

}  // namespace cairn::datastore::mvcc
