// A C++ client for the dqlite wire protocol (dqlite 1.11 has no public C client): handshake,
// leader lookup, open, prepare/exec/query with parameters, row batches, failure responses.
// Leadership changes surface as retryable() errors; the caller reconnect()s and retries its
// transaction (no silent automatic retry: after LEADERSHIP_LOST a write's outcome is
// unknown, only the caller knows whether replaying it is safe).
// One Client is one connection and is NOT thread-safe:
// use one per thread (the datastore's writer owns one, readers take from a pool).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace cairn::dqlite {

struct Null {
  friend bool operator==(Null, Null) { return true; }
};
using Blob = std::vector<uint8_t>;
// Column/parameter values as dqlite encodes them (integer, float, text, blob, null).
using Value = std::variant<Null, int64_t, double, std::string, Blob>;
using Row = std::vector<Value>;

struct Rows {
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

struct ExecResult {
  uint64_t last_insert_id = 0;
  uint64_t rows_affected = 0;
};

// Client-side error codes (all < 0; server codes are SQLite/dqlite codes, all > 0).
inline constexpr int64_t kErrTransport = -1;  // connect/send/recv failed, peer closed
inline constexpr int64_t kErrTimeout = -2;    // connect or request deadline passed
inline constexpr int64_t kErrProtocol = -3;   // malformed or unexpected response
inline constexpr int64_t kErrUsage = -4;      // invalid request (e.g. > 255 params, NUL in text)

// Server codes the caller may want to test for.
inline constexpr int64_t kSqliteBusy = 5;
inline constexpr int64_t kSqliteIoerrNotLeader = 10250;       // SQLITE_IOERR | (40 << 8)
inline constexpr int64_t kSqliteIoerrLeadershipLost = 10506;  // SQLITE_IOERR | (41 << 8)

// A failure response from the server (SQLite/dqlite error code and message) or a protocol
// or transport error (code < 0). `retryable()` is true for leadership changes and
// SQLITE_BUSY-like conditions after which the caller may reconnect and retry.
// After a transport, timeout or protocol error the connection is closed: every later call
// throws kErrTransport until `reconnect()` succeeds. A server failure (code > 0) leaves the
// connection usable.
class Error : public std::runtime_error {
 public:
  Error(int64_t code, std::string message);
  int64_t code() const noexcept { return code_; }
  bool retryable() const noexcept;
  bool transport() const noexcept { return code_ < 0 && code_ != kErrUsage; }

 private:
  int64_t code_;
};

struct ClientOptions {
  // "@abstract", "/path/to.sock" or "host:port", tried in order for leader discovery.
  std::vector<std::string> addresses;
  int connect_timeout_ms = 5000;
  int request_timeout_ms = 10000;
  // SQLite page cache of this connection's database handle on the node, in KiB ("PRAGMA
  // cache_size = -N" after every OPEN, reconnects included); 0 keeps SQLite's default (2000
  // KiB). dqlite already holds the whole database in memory, so each connection's cache is a
  // second copy of the pages it touched: a small cache saves memory at the cost of a memcpy
  // per page read. A connection with "PRAGMA cache_spill = OFF" still keeps every dirty page
  // of a transaction until COMMIT, whatever this limit.
  int page_cache_kib = 0;
};

class Client {
 public:
  // Connects to a reachable node, asks it for the leader, connects to the leader, handshakes.
  static std::unique_ptr<Client> connect(const ClientOptions& options);
  virtual ~Client() = default;

  // Opens (creating if needed) a database by name; later calls use it. dqlite allows one
  // database per connection: a second open() with another name throws kErrUsage.
  virtual void open(const std::string& database) = 0;

  // Statement ids are client-side handles: they survive reconnect() (the client prepares
  // the statements again on the new connection).
  using StatementId = uint32_t;
  virtual StatementId prepare(const std::string& sql) = 0;
  virtual void finalize(StatementId statement) = 0;
  virtual ExecResult exec(StatementId statement, const std::vector<Value>& params = {}) = 0;
  virtual Rows query(StatementId statement, const std::vector<Value>& params = {}) = 0;

  // One-shot forms (EXEC_SQL / QUERY_SQL); `sql` may hold several statements for exec_sql
  // (params bind to the first one only). At most 255 params per request (protocol v1).
  virtual ExecResult exec_sql(const std::string& sql, const std::vector<Value>& params = {}) = 0;
  virtual Rows query_sql(const std::string& sql, const std::vector<Value>& params = {}) = 0;

  // Pipelined writes: sends many EXEC (statement != 0) or EXEC_SQL (statement == 0, `sql`)
  // requests back to back, in a few write syscalls, and then reads their responses, so a
  // batch costs about one round trip instead of one per statement (dqlite still runs them
  // one after another, in order). Returns one result per item. dqlite runs every item even
  // if an earlier one failed; all responses are read, then the first failure is thrown as
  // Error(code, "pipelined item <i>: <message>"). Inside a transaction, roll back on error.
  // Typical group commit: exec_sql("BEGIN") in the batch's first item, then on success
  // exec_sql("COMMIT").
  struct Exec {
    StatementId statement = 0;
    std::string sql;
    std::vector<Value> params;
  };
  virtual std::vector<ExecResult> exec_pipelined(const std::vector<Exec>& batch) = 0;

  // Cluster information from the connected node.
  struct NodeInfo {
    uint64_t id = 0;
    std::string address;
    int role = 0;  // 0 voter, 1 standby, 2 spare
  };
  virtual NodeInfo leader() = 0;
  virtual std::vector<NodeInfo> cluster() = 0;

  // Cluster membership, sent to the leader: ADD makes `id` a spare member reachable at
  // `address`; ASSIGN gives it a role (0 voter, 1 standby, 2 spare; dqlite first catches the
  // node up). Node::start uses these to join a cluster.
  virtual void add_node(uint64_t id, const std::string& address) = 0;
  virtual void assign_role(uint64_t id, int role) = 0;

  // Drops the current connection (if any), finds the leader again, re-opens the database
  // and re-prepares every live statement. An open transaction is lost: after a retryable
  // error the caller retries its whole transaction. Throws Error like connect().
  virtual void reconnect() = 0;

  // True until a transport/timeout/protocol error closed the connection.
  virtual bool connected() const noexcept = 0;

  // The address of the node this client is connected to (the leader).
  virtual std::string address() const = 0;
};

}  // namespace cairn::dqlite
