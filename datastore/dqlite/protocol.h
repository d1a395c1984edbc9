// Constants of the dqlite wire protocol, version 1 (as served by libdqlite 1.11).
//
// Every integer on the wire is little-endian. A connection starts with the client sending
// the 8-byte protocol version; after that each message is an 8-byte header
// (u32 body size in 8-byte words, u8 type, u8 schema, u16 extra) and a body that is a
// whole number of 8-byte words.
#pragma once

#include <cstdint>

namespace cairn::dqlite::protocol {

inline constexpr uint64_t kVersion = 1;
inline constexpr uint64_t kWordSize = 8;
inline constexpr uint64_t kHeaderSize = 8;

// Request types.
enum RequestType : uint8_t {
  kRequestLeader = 0,
  kRequestClient = 1,
  kRequestHeartbeat = 2,
  kRequestOpen = 3,
  kRequestPrepare = 4,
  kRequestExec = 5,
  kRequestQuery = 6,
  kRequestFinalize = 7,
  kRequestExecSql = 8,
  kRequestQuerySql = 9,
  kRequestInterrupt = 10,
  kRequestConnect = 11,
  kRequestAdd = 12,
  kRequestAssign = 13,
  kRequestRemove = 14,
  kRequestDump = 15,
  kRequestCluster = 16,
  kRequestTransfer = 17,
  kRequestDescribe = 18,
  kRequestWeight = 19,
};

// Response types.
enum ResponseType : uint8_t {
  kResponseFailure = 0,
  kResponseServer = 1,
  kResponseWelcome = 2,
  kResponseServers = 3,
  kResponseDb = 4,
  kResponseStmt = 5,
  kResponseResult = 6,
  kResponseRows = 7,
  kResponseEmpty = 8,
  kResponseFiles = 9,
  kResponseMetadata = 10,
};

// Value type codes in parameter and row tuples (SQLite's codes plus dqlite's extras).
enum ValueType : uint8_t {
  kTypeInteger = 1,
  kTypeFloat = 2,
  kTypeText = 3,
  kTypeBlob = 4,
  kTypeNull = 5,
  kTypeUnixTime = 9,  // rows only: INTEGER in a DATETIME/DATE/TIMESTAMP column
  kTypeIso8601 = 10,  // TEXT (or NULL, sent as "") in a DATETIME/DATE/TIMESTAMP column
  kTypeBoolean = 11,  // INTEGER (or NULL, sent as 0) in a BOOLEAN column
};

// The word that ends a ROWS body: more batches follow (each as its own ROWS message,
// without a new request) or the result set is complete.
inline constexpr uint64_t kRowsPart = 0xeeeeeeeeeeeeeeeeULL;
inline constexpr uint64_t kRowsDone = 0xffffffffffffffffULL;

// CLUSTER request formats.
inline constexpr uint64_t kClusterFormatV0 = 0;  // id, address
inline constexpr uint64_t kClusterFormatV1 = 1;  // id, address, role

// Parameter tuples carry their count in one byte.
inline constexpr size_t kMaxParams = 255;

}  // namespace cairn::dqlite::protocol
