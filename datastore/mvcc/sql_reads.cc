#include "datastore/mvcc/sql_reads.h"

#include <algorithm>
#include <unordered_map>

#include "datastore/mvcc/row_id.h"
#include "datastore/mvcc/schema.h"

namespace cairn::datastore::mvcc {
namespace {

// Ids per fetch statement: keeps one request's JSON parameter and row batch moderate.
constexpr size_t kIdsPerFetch = 4096;
// Rows per chunk of load_index: bounds the memory of one result set at start-up.
constexpr int64_t kLoadChunk = 8192;

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

// A row as kv stores it: version 0 marks a tombstone.
KeyValue row_kv(const dqlite::Row& r) {
  KeyValue kv;
  int64_t id = int_of(r.at(0));
  kv.key = bytes_of(r.at(1));
  kv.create_revision = int_of(r.at(2));
  kv.mod_revision = revision_of_row(id);
  kv.version = int_of(r.at(3));
  kv.lease = int_of(r.at(4));
  kv.value = bytes_of(r.at(5));
  return kv;
}

const char* const kColumns = "id, name, create_revision, version, lease, ";

// Fetches the rows `ids` (any order); rows that do not exist are absent from the result.
std::unordered_map<int64_t, KeyValue> fetch_rows(Connection& conn, const std::vector<int64_t>& ids,
                                                 bool with_value) {
  std::unordered_map<int64_t, KeyValue> out;
  out.reserve(ids.size());
  const std::string sql = std::string("SELECT ") + kColumns + (with_value ? "value" : "NULL") +
                          " FROM kv WHERE id IN (SELECT value FROM json_each(?))";
  for (size_t i = 0; i < ids.size(); i += kIdsPerFetch) {
    auto end = ids.begin() + int64_t(std::min(ids.size(), i + kIdsPerFetch));
    auto rows = conn.query(sql, {id_list(ids.begin() + int64_t(i), end)});
    for (auto& r : rows.rows) out.emplace(int_of(r.at(0)), row_kv(r));
  }
  return out;
}

}  // namespace

std::string id_list(std::vector<int64_t>::const_iterator begin,
                    std::vector<int64_t>::const_iterator end) {
  std::string s = "[";
  for (auto it = begin; it != end; ++it) {
    if (it != begin) s += ',';
    s += std::to_string(*it);
  }
  s += ']';
  return s;
}

std::vector<KeyValue> range_at(Connection& conn, const KeyIndex& index, const RangeQuery& q) {
  std::vector<int64_t> ids = index.rows_at(q.range, q.revision, q.limit);
  auto rows = fetch_rows(conn, ids, !q.keys_only);
  std::vector<KeyValue> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    auto it = rows.find(id);
    if (it == rows.end()) {
      throw StoreError(ErrorKind::kCompacted,
                       "etcdserver: mvcc: required revision has been compacted");
    }
    out.push_back(std::move(it->second));
  }
  return out;
}

std::vector<Event> history(Connection& conn, const KeyIndex& index, const KeyRange& range,
                           int64_t from, int64_t to, int64_t limit, bool with_prev) {
  std::vector<dqlite::Value> params;
  std::string sql = std::string("SELECT ") + kColumns + "value FROM kv WHERE id >= ? AND id < ?";
  params.push_back(first_row_of(from));
  params.push_back(first_row_of(to + 1));
  bool everything = range.unbounded() && range.key.size() == 1 && range.key[0] == '\0';
  if (!everything) sql += " AND " + range_condition(range, "name", params);
  sql += " ORDER BY id LIMIT ?";
  params.push_back(limit);
  auto rows = conn.query(sql, params);
  std::vector<Event> out;
  out.reserve(rows.rows.size());
  std::vector<int64_t> prev_ids;
  for (auto& r : rows.rows) {
    Event ev;
    ev.kv = row_kv(r);
    if (ev.kv.version == 0) {
      ev.type = Event::Type::kDelete;
      ev.kv = KeyValue{std::move(ev.kv.key), {}, 0, ev.kv.mod_revision, 0, 0};
    }
    if (with_prev) {
      ev.prev_row = index.prev_row(ev.kv.key, int_of(r.at(0)));
      if (ev.prev_row != 0) prev_ids.push_back(ev.prev_row);
    }
    ev.prev_value_loaded = with_prev;
    out.push_back(std::move(ev));
  }
  if (!prev_ids.empty()) {
    auto prevs = fetch_rows(conn, prev_ids, true);
    for (auto& ev : out) {
      if (ev.prev_row == 0) continue;
      auto it = prevs.find(ev.prev_row);
      if (it != prevs.end()) ev.prev = it->second;  // else compacted away: no prev
    }
  }
  return out;
}

std::optional<std::string> value_at(Connection& conn, int64_t row) {
  auto rows = conn.query("SELECT value FROM kv WHERE id = ?", {row});
  if (rows.rows.empty()) return std::nullopt;
  return bytes_of(rows.rows[0].at(0));
}

std::unordered_map<int64_t, std::string> values_at(Connection& conn,
                                                   const std::vector<int64_t>& ids) {
  std::unordered_map<int64_t, std::string> out;
  for (auto& [id, kv] : fetch_rows(conn, ids, true)) out.emplace(id, std::move(kv.value));
  return out;
}

int64_t load_index(Connection& conn, KeyIndex& index) {
  KeyIndex fresh;
  KeyIndex::Builder builder(fresh);
  int64_t last = 0;
  for (;;) {
    auto rows = conn.query(
        "SELECT id, name, create_revision, version, lease FROM kv WHERE id > ? ORDER BY id"
        " LIMIT ?",
        {last, kLoadChunk});
    for (auto& r : rows.rows) {
      int64_t id = int_of(r.at(0));
      int64_t version = int_of(r.at(3));
      if (version == 0) {
        builder.erase(bytes_of(r.at(1)), id);
      } else {
        KeyMeta m;
        m.create_revision = int_of(r.at(2));
        m.mod_revision = revision_of_row(id);
        m.version = version;
        m.lease = int_of(r.at(4));
        m.row = id;
        builder.put(bytes_of(r.at(1)), m);
      }
      last = id;
    }
    if (int64_t(rows.rows.size()) < kLoadChunk) break;
  }
  index.replace_with(std::move(fresh));
  int64_t compact = read_meta_int(conn.raw(), "compact_revision", 0);
  return std::max<int64_t>({revision_of_row(last), compact, 1});
}

std::vector<std::pair<int64_t, int64_t>> load_leases(Connection& conn) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (auto& r : conn.query("SELECT id, ttl FROM lease").rows) {
    out.emplace_back(int_of(r.at(0)), int_of(r.at(1)));
  }
  return out;
}

}  // namespace cairn::datastore::mvcc
