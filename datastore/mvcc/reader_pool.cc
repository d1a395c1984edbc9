#include "datastore/mvcc/reader_pool.h"

namespace cairn::datastore::mvcc {

ReaderPool::ReaderPool(dqlite::ClientOptions options, std::string database, size_t size)
    : options_(std::move(options)), database_(std::move(database)), size_(size ? size : 1) {}

std::unique_ptr<Connection> ReaderPool::connect() const {
  auto client = dqlite::Client::connect(options_);
  client->open(database_);
  return std::make_unique<Connection>(std::move(client));
}

std::unique_ptr<Connection> ReaderPool::acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || outstanding_ < size_; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      ++outstanding_;
      return conn;
    }
    ++outstanding_;
  }
  try {
    return connect();
  } catch (...) {
    std::lock_guard lock(mu_);
    --outstanding_;
    cv_.notify_one();
    throw;
  }
}

void ReaderPool::release(std::unique_ptr<Connection> conn, bool reusable) {
  std::lock_guard lock(mu_);
  --outstanding_;
  if (reusable) idle_.push_back(std::move(conn));
  cv_.notify_one();
}

}  // namespace cairn::datastore::mvcc
