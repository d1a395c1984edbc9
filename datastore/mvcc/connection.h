// One dqlite connection with a cache of prepared statements keyed by SQL text, so hot
// queries are compiled once per connection. Not thread-safe (as dqlite::Client).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "datastore/dqlite/client.h"

namespace cairn::datastore::mvcc {

class Connection {
 public:
  explicit Connection(std::unique_ptr<dqlite::Client> client) : client_(std::move(client)) {}

  dqlite::Rows query(const std::string& sql, const std::vector<dqlite::Value>& params = {});
  dqlite::ExecResult exec(const std::string& sql, const std::vector<dqlite::Value>& params = {});
  dqlite::Client& raw() { return *client_; }

  // Runs cached prepared statements back to back in one pipelined round trip
  // (dqlite::Client::exec_pipelined: every statement runs even if an earlier one failed;
  // the first failure is thrown after all responses are read).
  struct Statement {
    std::string sql;
    std::vector<dqlite::Value> params;
  };
  void exec_pipelined(std::vector<Statement>& statements);

 private:
  dqlite::Client::StatementId statement(const std::string& sql);

  std::unique_ptr<dqlite::Client> client_;
  std::unordered_map<std::string, dqlite::Client::StatementId> statements_;
};

// Conversions between etcd's byte strings and dqlite values. Keys and values are always
// stored as BLOBs so that SQLite orders keys bytewise, as etcd does.
dqlite::Value blob(const std::string& bytes);
std::string bytes_of(const dqlite::Value& v);
int64_t int_of(const dqlite::Value& v);

}  // namespace cairn::datastore::mvcc
