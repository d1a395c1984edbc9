// Row ids of the kv table (schema.h): id = revision << kRowSubBits | sub, where sub numbers
// the rows one request writes at its revision (a Txn or DeleteRange changes several keys at
// one revision, as in etcd). Ids therefore grow with every write, so each INSERT appends at
// the right edge of the table's b-tree, and "the rows of revisions [a, b]" is the id range
// [first_row_of(a), first_row_of(b + 1)) with no index besides the primary key.
// Limits: 2^20 - 1 rows per revision, revisions below 2^43 (28 years at 10,000 writes/s).
#pragma once

#include <cstdint>

namespace cairn::datastore::mvcc {

inline constexpr int kRowSubBits = 20;
inline constexpr int64_t kMaxRowsPerRevision = int64_t(1) << kRowSubBits;
inline constexpr int64_t kMaxRevision = (int64_t(1) << (63 - kRowSubBits)) - 1;

constexpr int64_t row_id(int64_t revision, int64_t sub) {
  return (revision << kRowSubBits) | sub;
}
constexpr int64_t revision_of_row(int64_t id) {
  return id >> kRowSubBits;
}
// The smallest id a row of `revision` can have.
constexpr int64_t first_row_of(int64_t revision) {
  return revision << kRowSubBits;
}

}  // namespace cairn::datastore::mvcc
