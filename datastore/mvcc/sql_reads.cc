#include "datastore/mvcc/sql_reads.h"

#include "datastore/mvcc/schema.h"

namespace cairn::datastore::mvcc {
namespace {

// Appends the key-range condition on column `col` and binds its parameters.
std::string range_condition(const KeyRange& range, const std::string& col,
                            std::vector<dqlite::Value>& params) {
  if (range.single()) {
    params.push_back(blob(range.key));
    return col + " = ?";
  }
  params.push_back(blob(range.key));
  if (range.unbounded()) return col + " >= ?";
  params.push_back(blob(range.end));
  return col + " >= ? AND " + col + " < ?";
}

// The newest row of each key at or below the read revision (bound as the last parameter).
// range_at keeps this form: its outer loop walks kv_name_revision in key order and probes
// the same index per row, so a LIMIT (paginated lists) stops after `limit` live keys, where
// the grouped form of latest_rows_sql would first group and sort the whole range.
const char* const kLatestAtRevision =
    " AND k.revision <= ? AND NOT EXISTS (SELECT 1 FROM kv AS n WHERE n.name = k.name"
    " AND n.revision > k.revision AND n.revision <= ?)";

// The newest row of each key of a whole range (load_index, count_at): one pass over the
// covering (name, revision) index finds each name's newest revision without reading table
// rows, then one index lookup per name fetches that row. (The NOT EXISTS form scans every
// table row, superseded history included, and probes the index once per row: on a store
// with a long history that is what made start-up take minutes.) CROSS JOIN pins the join
// order: the grouped names drive the lookups.
std::string latest_rows_sql(const std::string& columns, const std::string& name_condition) {
  return "SELECT " + columns + " FROM (SELECT name, MAX(revision) AS revision FROM kv" +
         (name_condition.empty() ? "" : " WHERE " + name_condition) +
         " GROUP BY name) AS m CROSS JOIN kv AS k ON k.name = m.name AND"
         " k.revision = m.revision WHERE k.deleted = 0";
}

}  // namespace

std::string load_index_sql() {
  return latest_rows_sql("k.name, k.create_revision, k.revision, k.version, k.lease", "");
}

std::vector<KeyValue> range_at(Connection& conn, const RangeQuery& q) {
  std::vector<dqlite::Value> params;
  std::string sql = std::string("SELECT k.name, ") + (q.keys_only ? "NULL" : "k.value") +
                    ", k.create_revision, k.revision, k.version, k.lease FROM kv AS k WHERE " +
                    range_condition(q.range, "k.name", params) + " AND k.deleted = 0" +
                    kLatestAtRevision + " ORDER BY k.name";
  params.push_back(q.revision);
  params.push_back(q.revision);
  if (q.limit > 0) {
    sql += " LIMIT ?";
    params.push_back(q.limit);
  }
  auto rows = conn.query(sql, params);
  std::vector<KeyValue> out;
  out.reserve(rows.rows.size());
  for (auto& r : rows.rows) {
    KeyValue kv;
    kv.key = bytes_of(r.at(0));
    kv.value = bytes_of(r.at(1));
    kv.create_revision = int_of(r.at(2));
    kv.mod_revision = int_of(r.at(3));
    kv.version = int_of(r.at(4));
    kv.lease = int_of(r.at(5));
    out.push_back(std::move(kv));
  }
  return out;
}

int64_t count_at(Connection& conn, const KeyRange& range, int64_t revision) {
  std::vector<dqlite::Value> params;
  std::string cond = range_condition(range, "name", params);
  params.push_back(revision);
  auto rows = conn.query(latest_rows_sql("COUNT(*)", cond + " AND revision <= ?"), params);
  return rows.rows.empty() ? 0 : int_of(rows.rows[0].at(0));
}

std::vector<Event> history(Connection& conn, const KeyRange& range, int64_t from, int64_t to,
                           int64_t limit, bool with_prev) {
  std::vector<dqlite::Value> params;
  std::string sql =
      "SELECT k.name, k.value, k.create_revision, k.revision, k.version, k.lease, k.deleted,"
      " k.prev_revision";
  if (with_prev) {
    sql +=
        ", p.value, p.create_revision, p.version, p.lease FROM kv AS k LEFT JOIN kv AS p"
        " ON p.name = k.name AND p.revision = k.prev_revision";
  } else {
    sql += " FROM kv AS k";
  }
  sql += " WHERE k.revision >= ? AND k.revision <= ?";
  params.push_back(from);
  params.push_back(to);
  bool everything = range.unbounded() && range.key.size() == 1 && range.key[0] == '\0';
  if (!everything) sql += " AND " + range_condition(range, "k.name", params);
  sql += " ORDER BY k.revision, k.name LIMIT ?";
  params.push_back(limit);
  auto rows = conn.query(sql, params);
  std::vector<Event> out;
  out.reserve(rows.rows.size());
  for (auto& r : rows.rows) {
    Event ev;
    ev.kv.key = bytes_of(r.at(0));
    ev.kv.mod_revision = int_of(r.at(3));
    bool deleted = int_of(r.at(6)) != 0;
    ev.type = deleted ? Event::Type::kDelete : Event::Type::kPut;
    if (!deleted) {
      ev.kv.value = bytes_of(r.at(1));
      ev.kv.create_revision = int_of(r.at(2));
      ev.kv.version = int_of(r.at(4));
      ev.kv.lease = int_of(r.at(5));
    }
    int64_t prev_rev = int_of(r.at(7));
    if (with_prev && prev_rev != 0 && !std::holds_alternative<dqlite::Null>(r.at(9))) {
      KeyValue p;
      p.key = ev.kv.key;
      p.value = bytes_of(r.at(8));
      p.create_revision = int_of(r.at(9));
      p.mod_revision = prev_rev;
      p.version = int_of(r.at(10));
      p.lease = int_of(r.at(11));
      ev.prev = std::move(p);
    }
    ev.prev_value_loaded = with_prev;
    out.push_back(std::move(ev));
  }
  return out;
}

std::optional<std::string> value_at(Connection& conn, const std::string& key, int64_t revision) {
  auto rows =
      conn.query("SELECT value FROM kv WHERE name = ? AND revision = ?", {blob(key), revision});
  if (rows.rows.empty()) return std::nullopt;
  return bytes_of(rows.rows[0].at(0));
}

int64_t load_index(Connection& conn, KeyIndex& index) {
  index.clear();
  auto rows = conn.query(load_index_sql());
  for (auto& r : rows.rows) {
    KeyMeta m;
    m.create_revision = int_of(r.at(1));
    m.mod_revision = int_of(r.at(2));
    m.version = int_of(r.at(3));
    m.lease = int_of(r.at(4));
    index.put(bytes_of(r.at(0)), m);
  }
  auto max = conn.query("SELECT MAX(revision) FROM kv");
  int64_t rev = max.rows.empty() ? 0 : int_of(max.rows[0].at(0));
  int64_t compact = read_meta_int(conn.raw(), "compact_revision", 0);
  return std::max<int64_t>({rev, compact, 1});
}

std::vector<std::pair<int64_t, int64_t>> load_leases(Connection& conn) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (auto& r : conn.query("SELECT id, ttl FROM lease").rows) {
    out.emplace_back(int_of(r.at(0)), int_of(r.at(1)));
  }
  return out;
}

}  // namespace cairn::datastore::mvcc
