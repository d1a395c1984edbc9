// Value types of the MVCC store: the latest state of a key, a stored key-value, and the
// events a write produces. Independent of protobuf so that the storage layer stays small.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cairn::datastore::mvcc {

// The latest state of a live key, as the writer's in-memory index keeps it.
struct KeyMeta {
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;  // 1 at creation, +1 per update
  int64_t lease = 0;
  int64_t row = 0;  // id of the kv row holding this state (row_id.h)
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

// One change at one revision. For a delete, `kv` carries only key and mod_revision (etcd's
// shape). `prev` is the key's previous state when it existed; its value is filled lazily
// (prev_value_loaded) because the writer does not keep values in memory.
struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;
  std::optional<KeyValue> prev;
  int64_t prev_row = 0;  // the kv row of `prev`, to load its value by id
  bool prev_value_loaded = false;
};

// The etcd MVCC errors a request can end in; the API layer maps them to etcd's gRPC status.
enum class ErrorKind {
  kCompacted,       // "etcdserver: mvcc: required revision has been compacted"
  kFutureRevision,  // "etcdserver: mvcc: required revision is a future revision"
  kUnavailable,     // the database could not be reached or the commit failed
};

class StoreError : public std::runtime_error {
 public:
  StoreError(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// A key range as etcd spells it: end empty = just `key`; end == "\0" = every key >= key;
// otherwise [key, end). key == "\0" with end == "\0" is every key.
struct KeyRange {
  std::string key;
  std::string end;

  bool single() const { return end.empty(); }
  bool unbounded() const { return end.size() == 1 && end[0] == '\0'; }
  bool contains(const std::string& k) const {
    if (single()) return k == key;
    if (k < key) return false;
    return unbounded() || k < end;
  }
};

// Query over keys at a revision: the key index picks the rows, SQL fetches them by id.
struct RangeQuery {
  KeyRange range;
  int64_t revision = 0;  // the read revision (already resolved, > 0)
  int64_t limit = 0;     // 0 = none
  bool keys_only = false;
};

}  // namespace cairn::datastore::mvcc
