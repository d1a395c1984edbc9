// Pure encoders and decoders of dqlite wire-protocol messages (no I/O), unit-tested
// byte-exactly and fuzzed. Requests are appended to a caller-owned buffer so one request
// is one contiguous write; responses are decoded from a body span with bounds checks on
// every read: malformed input throws Error(kErrProtocol, what is wrong), never over-reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/dqlite/client.h"
#include "datastore/dqlite/protocol.h"

namespace cairn::dqlite::wire {

using Bytes = std::vector<uint8_t>;
using Body = std::span<const uint8_t>;

struct Header {
  uint32_t words = 0;  // body size in 8-byte words
  uint8_t type = 0;
  uint8_t schema = 0;
  uint16_t extra = 0;
};

// The 8-byte handshake: the protocol version.
void encode_handshake(Bytes& out);

// Decodes an 8-byte message header; `bytes` must hold at least 8 bytes.
Header decode_header(std::span<const uint8_t, protocol::kHeaderSize> bytes);

// Request encoders: each appends one complete message (header + body) to `out`.
// Those that take SQL or params throw Error(kErrUsage) for text containing NUL bytes
// (dqlite binds text as C strings and would silently truncate it) and for > 255 params.
void encode_leader(Bytes& out);
void encode_client(Bytes& out, uint64_t client_id);
void encode_open(Bytes& out, std::string_view database, uint64_t flags = 0,
                 std::string_view vfs = "");
void encode_prepare(Bytes& out, uint32_t db, std::string_view sql);
void encode_exec(Bytes& out, uint32_t db, uint32_t stmt, const std::vector<Value>& params);
void encode_query(Bytes& out, uint32_t db, uint32_t stmt, const std::vector<Value>& params);
void encode_finalize(Bytes& out, uint32_t db, uint32_t stmt);
void encode_exec_sql(Bytes& out, uint32_t db, std::string_view sql,
                     const std::vector<Value>& params);
void encode_query_sql(Bytes& out, uint32_t db, std::string_view sql,
                      const std::vector<Value>& params);
void encode_interrupt(Bytes& out, uint32_t db);
void encode_cluster(Bytes& out, uint64_t format);
void encode_add(Bytes& out, uint64_t id, std::string_view address);
void encode_assign(Bytes& out, uint64_t id, uint64_t role);

// Appends a parameter tuple (count byte, 8-bit type codes padded to a word, values).
// Appends nothing for an empty list (dqlite reads "no bytes left" as "no params").
void encode_params(Bytes& out, const std::vector<Value>& params);

// Response decoders: `body` is the message body (without header).
struct Failure {
  uint64_t code = 0;
  std::string message;
};
Failure decode_failure(Body body);
Client::NodeInfo decode_server(Body body);  // SERVER: id, address
uint64_t decode_welcome(Body body);         // WELCOME: heartbeat timeout (ms)
uint32_t decode_db(Body body);              // DB: database id
struct Stmt {
  uint32_t db = 0;
  uint32_t id = 0;
  uint64_t params = 0;
};
Stmt decode_stmt(Body body);
ExecResult decode_result(Body body);
std::vector<Client::NodeInfo> decode_servers(Body body, uint64_t format);
void decode_empty(Body body);

// Decodes one ROWS body and appends its rows to `rows`. The first batch sets the column
// names; later batches must repeat the same names. Returns true if more batches follow
// (the body ended with kRowsPart), false when it ended with kRowsDone.
// DATETIME-like values arrive as int64 (unixtime) or text (ISO8601), BOOLEAN as int64 0/1.
bool decode_rows(Body body, Rows& rows);

}  // namespace cairn::dqlite::wire
