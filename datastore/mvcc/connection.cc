#include "datastore/mvcc/connection.h"

namespace cairn::datastore::mvcc {

dqlite::Client::StatementId Connection::statement(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  auto id = client_->prepare(sql);
  statements_.emplace(sql, id);
  return id;
}

dqlite::Rows Connection::query(const std::string& sql, const std::vector<dqlite::Value>& params) {
  return client_->query(statement(sql), params);
}

dqlite::ExecResult Connection::exec(const std::string& sql,
                                    const std::vector<dqlite::Value>& params) {
  return client_->exec(statement(sql), params);
}

void Connection::exec_pipelined(std::vector<Statement>& statements) {
  std::vector<dqlite::Client::Exec> batch(statements.size());
  for (size_t i = 0; i < statements.size(); ++i) {
    batch[i].statement = statement(statements[i].sql);
    batch[i].params = std::move(statements[i].params);
  }
  client_->exec_pipelined(batch);
}

dqlite::Value blob(const std::string& bytes) {
  return dqlite::Blob(reinterpret_cast<const uint8_t*>(bytes.data()),
                      reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size());
}

std::string bytes_of(const dqlite::Value& v) {
  if (auto* b = std::get_if<dqlite::Blob>(&v)) return std::string(b->begin(), b->end());
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

int64_t int_of(const dqlite::Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return int64_t(*d);
  return 0;
}

}  // namespace cairn::datastore::mvcc
