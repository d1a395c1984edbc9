#include "datastore/mvcc/schema.h"

#include <random>
#include <set>
#include <stdexcept>

namespace cairn::datastore::mvcc {
namespace {

const char* const kCreateSql =
    "CREATE TABLE IF NOT EXISTS kv ("
    " id INTEGER PRIMARY KEY,"
    " name BLOB NOT NULL,"
    " create_revision INTEGER NOT NULL,"
    " version INTEGER NOT NULL,"
    " lease INTEGER NOT NULL,"
    " value BLOB);"
    "CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value);";

std::string as_text(const dqlite::Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* b = std::get_if<dqlite::Blob>(&v)) return std::string(b->begin(), b->end());
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return {};
}

uint64_t random_id() {
  std::random_device rd;
  uint64_t id = 0;
  while (id == 0) id = (uint64_t(rd()) << 32) ^ rd();
  return id;
}

// A new cluster or member id: stored as a signed 64-bit integer; the wire carries it as uint64.
int64_t fresh_id() {
  return int64_t(random_id() >> 1);
}

uint64_t meta_id(dqlite::Client& client, const std::string& name) {
  int64_t id = read_meta_int(client, name, 0);
  if (id != 0) return uint64_t(id);
  int64_t fresh = fresh_id();
  client.exec_sql("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", {name, fresh});
  return uint64_t(read_meta_int(client, name, fresh));
}

}  // namespace

int64_t read_meta_int(dqlite::Client& client, const std::string& name, int64_t fallback) {
  auto rows = client.query_sql("SELECT value FROM meta WHERE name = ?", {name});
  if (rows.rows.empty() || rows.rows[0].empty()) return fallback;
  if (auto* i = std::get_if<int64_t>(&rows.rows[0][0])) return *i;
  return fallback;
}

Identity ensure_schema(dqlite::Client& client) {
  auto tables = client.query_sql(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  std::set<std::string> names;
  for (auto& row : tables.rows) names.insert(as_text(row.at(0)));
  static const std::set<std::string> ours = {"kv", "lease", "meta"};
  for (auto& n : names) {
    if (!ours.count(n)) {
      throw std::runtime_error("database holds a table '" + n +
                               "' that is not cairn-datastore's: foreign storage directory?");
    }
  }
  if (names.empty()) {
    // A fresh store: tables, format and both ids in one transaction, so one raft entry (and
    // one log write) instead of six autocommitted ones, on the first boot's path to ready.
    // The ids are integers and kFormat a constant without quotes: safe as literals.
    client.exec_sql(std::string("BEGIN;") + kCreateSql +
                    "INSERT INTO meta (name, value) VALUES ('format', '" + kFormat +
                    "'), ('cluster_id', " + std::to_string(fresh_id()) + "), ('member_id', " +
                    std::to_string(fresh_id()) + ");COMMIT;");
  } else {
    if (!names.count("meta")) {
      throw std::runtime_error("database has cairn-like tables but no meta table: corrupt store");
    }
    auto rows = client.query_sql("SELECT value FROM meta WHERE name = 'format'");
    std::string format = rows.rows.empty() ? "" : as_text(rows.rows[0].at(0));
    if (format != kFormat) {
      throw std::runtime_error("database format is '" + format + "', expected '" + kFormat + "'");
    }
    // The format row is there (checked above); a table missing beside it is made again.
    client.exec_sql(kCreateSql);
  }
  Identity id;
  id.cluster_id = meta_id(client, "cluster_id");
  id.member_id = meta_id(client, "member_id");
  return id;
}

}  // namespace cairn::datastore::mvcc
