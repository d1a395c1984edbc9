// The dqlite wire client: leader discovery, request/response round trips, row batches.
#include "datastore/dqlite/client.h"

#include <algorithm>
#include <optional>
#include <thread>
#include <type_traits>

#include "datastore/dqlite/connection.h"
#include "datastore/dqlite/wire.h"

namespace cairn::dqlite {

namespace {

constexpr auto kLeaderPoll = std::chrono::milliseconds(20);

class ClientImpl final : public Client {
 public:
  explicit ClientImpl(ClientOptions options) : options_(std::move(options)) {
    if (options_.addresses.empty()) throw Error(kErrUsage, "dqlite client: no node addresses");
  }

  void open(const std::string& database) override {
    if (database_) {
      if (*database_ == database) return;
      throw Error(kErrUsage, "dqlite allows one database per connection: '" + *database_ +
                                 "' is open, cannot open '" + database + "'");
    }
    db_id_ = open_on_connection(database);
    database_ = database;
  }

  StatementId prepare(const std::string& sql) override {
    require_db();
    uint32_t server_id = prepare_on_connection(sql);
    StatementId id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      stmts_[id - 1] = {sql, server_id, true};
    } else {
      stmts_.push_back({sql, server_id, true});
      id = static_cast<StatementId>(stmts_.size());
    }
    return id;
  }

  void finalize(StatementId statement) override {
    StmtSlot& s = slot(statement);
    out_.clear();
    wire::encode_finalize(out_, db_id_, s.server_id);
    s.live = false;
    free_.push_back(statement);
    call(protocol::kResponseEmpty, wire::decode_empty);
  }

  ExecResult exec(StatementId statement, const std::vector<Value>& params) override {
    StmtSlot& s = slot(statement);
    out_.clear();
    wire::encode_exec(out_, db_id_, s.server_id, params);
    return call(protocol::kResponseResult, wire::decode_result);
  }

  Rows query(StatementId statement, const std::vector<Value>& params) override {
    StmtSlot& s = slot(statement);
    out_.clear();
    wire::encode_query(out_, db_id_, s.server_id, params);
    return rows_roundtrip();
  }

  ExecResult exec_sql(const std::string& sql, const std::vector<Value>& params) override {
    require_db();
    out_.clear();
    wire::encode_exec_sql(out_, db_id_, sql, params);
    return call(protocol::kResponseResult, wire::decode_result);
  }

  Rows query_sql(const std::string& sql, const std::vector<Value>& params) override {
    require_db();
    out_.clear();
    wire::encode_query_sql(out_, db_id_, sql, params);
    return rows_roundtrip();
  }

  std::vector<ExecResult> exec_pipelined(const std::vector<Exec>& batch) override {
    // Requests go out in chunks whose responses (RESULT: 24 bytes, FAILURE: a short message)
    // fit easily in the socket's receive buffer: while we send, dqlite can always write its
    // answers, so neither side blocks the other.
    constexpr size_t kChunk = 128;
    std::vector<ExecResult> results;
    results.reserve(batch.size());
    std::optional<Error> first_failure;
    // Encode everything first, so a usage error (unknown statement, bad params) throws
    // before any item has run.
    out_.clear();
    std::vector<size_t> chunk_end;  // byte offset in out_ after each chunk
    for (size_t i = 0; i < batch.size(); ++i) {
      const Exec& e = batch[i];
      if (e.statement != 0) {
        wire::encode_exec(out_, db_id_, slot(e.statement).server_id, e.params);
      } else {
        require_db();
        wire::encode_exec_sql(out_, db_id_, e.sql, e.params);
      }
      if ((i + 1) % kChunk == 0 || i + 1 == batch.size()) chunk_end.push_back(out_.size());
    }
    if (!conn_.is_open()) {
      throw Error(kErrTransport, "dqlite connection is closed (call reconnect())");
    }
    size_t sent = 0;
    size_t item = 0;
    for (size_t end : chunk_end) {
      auto deadline = request_deadline();
      conn_.send(std::span<const uint8_t>(out_.data() + sent, end - sent), deadline);
      sent = end;
      size_t items = std::min(kChunk, batch.size() - item);
      for (size_t k = 0; k < items; ++k, ++item) {
        Connection::Message m = conn_.receive(deadline);
        try {
          check(m, protocol::kResponseResult);
          results.push_back(wire::decode_result(m.body));
        } catch (const Error& e) {
          if (e.code() < 0) {
            conn_.close();  // responses still in flight: the stream is out of sync
            throw;
          }
          if (!first_failure) {
            first_failure.emplace(e.code(),
                                  "pipelined item " + std::to_string(item) + ": " + e.what());
          }
          results.push_back(ExecResult{});
        }
      }
    }
    if (first_failure) throw *first_failure;
    return results;
  }

  NodeInfo leader() override {
    out_.clear();
    wire::encode_leader(out_);
    return call(protocol::kResponseServer, wire::decode_server);
  }

  std::vector<NodeInfo> cluster() override {
    out_.clear();
    wire::encode_cluster(out_, protocol::kClusterFormatV1);
    return call(protocol::kResponseServers,
                [](wire::Body b) { return wire::decode_servers(b, protocol::kClusterFormatV1); });
  }

  void add_node(uint64_t id, const std::string& address) override {
    out_.clear();
    wire::encode_add(out_, id, address);
    call(protocol::kResponseEmpty, wire::decode_empty);
  }

  void assign_role(uint64_t id, int role) override {
    if (role < 0 || role > 2) {
      throw Error(kErrUsage, "dqlite role must be 0 (voter), 1 (standby) or 2 (spare)");
    }
    out_.clear();
    wire::encode_assign(out_, id, static_cast<uint64_t>(role));
    call(protocol::kResponseEmpty, wire::decode_empty);
  }

  void reconnect() override {
    conn_.close();
    auto deadline = Clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
    conn_ = find_leader(deadline);
    if (database_) db_id_ = open_on_connection(*database_);
    for (StmtSlot& s : stmts_) {
      if (s.live) s.server_id = prepare_on_connection(s.sql);
    }
  }

  bool connected() const noexcept override { return conn_.is_open(); }
  std::string address() const override { return conn_.address(); }

 private:
  struct StmtSlot {
    std::string sql;
    uint32_t server_id = 0;
    bool live = false;
  };

  Clock::time_point request_deadline() const {
    return Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms);
  }

  void require_db() const {
    if (!database_) throw Error(kErrUsage, "dqlite client: open() a database first");
  }

  StmtSlot& slot(StatementId id) {
    if (id == 0 || id > stmts_.size() || !stmts_[id - 1].live) {
      throw Error(kErrUsage, "dqlite client: unknown statement id " + std::to_string(id));
    }
    return stmts_[id - 1];
  }

  uint32_t open_on_connection(const std::string& database) {
    out_.clear();
    wire::encode_open(out_, database);
    uint32_t id = call(protocol::kResponseDb, wire::decode_db);
    if (options_.page_cache_kib > 0) {
      out_.clear();
      wire::encode_exec_sql(out_, id,
                            "PRAGMA cache_size = -" + std::to_string(options_.page_cache_kib), {});
      call(protocol::kResponseResult, wire::decode_result);
    }
    return id;
  }

  uint32_t prepare_on_connection(const std::string& sql) {
    out_.clear();
    wire::encode_prepare(out_, db_id_, sql);
    return call(protocol::kResponseStmt, wire::decode_stmt).id;
  }

  // Checks a response's type: FAILURE becomes Error(code, message) with the connection
  // intact; any other unexpected type means we lost sync with the server.
  void check(const Connection::Message& m, uint8_t expected) {
    if (m.header.type == expected) return;
    if (m.header.type == protocol::kResponseFailure) {
      wire::Failure f;
      try {
        f = wire::decode_failure(m.body);
      } catch (...) {
        conn_.close();
        throw;
      }
      throw Error(static_cast<int64_t>(f.code), f.message);
    }
    conn_.close();
    throw Error(kErrProtocol, "dqlite " + conn_.address() + ": expected response type " +
                                  std::to_string(expected) + ", got " +
                                  std::to_string(m.header.type));
  }

  // Sends out_ as one write and returns the response (valid until the next receive).
  Connection::Message roundtrip(uint8_t expected) {
    if (!conn_.is_open()) {
      throw Error(kErrTransport, "dqlite connection is closed (call reconnect())");
    }
    auto deadline = request_deadline();
    conn_.send(out_, deadline);
    Connection::Message m = conn_.receive(deadline);
    check(m, expected);
    return m;
  }

  // roundtrip() plus decoding: a response body that does not decode means we no longer
  // understand the server, so the connection is closed like for any protocol error.
  template <typename Decode>
  std::invoke_result_t<Decode, wire::Body> call(uint8_t expected, Decode decode) {
    Connection::Message m = roundtrip(expected);
    try {
      return decode(m.body);
    } catch (const Error&) {
      conn_.close();
      throw;
    }
  }

  Rows rows_roundtrip() {
    Rows rows;
    Connection::Message m = roundtrip(protocol::kResponseRows);
    // Further batches come unrequested; the server must not get a request meanwhile, so a
    // failure part-way closes the connection rather than leave it mid-result.
    try {
      while (wire::decode_rows(m.body, rows)) {
        m = conn_.receive(request_deadline());
        check(m, protocol::kResponseRows);
      }
    } catch (const Error& e) {
      if (e.code() == kErrProtocol) conn_.close();
      throw;
    }
    return rows;
  }

  // Connects to any reachable node, asks it for the leader, and returns a registered
  // connection to the leader. Waits (until the deadline) while no leader is known yet, as
  // right after a node starts.
  Connection find_leader(Clock::time_point deadline) {
    std::string last_error = "no address tried";
    bool informative = false;  // last_error is not just a timeout
    for (;;) {
      for (const std::string& address : options_.addresses) {
        try {
          Connection c = Connection::open(address, deadline);
          NodeInfo leader = ask_leader(c, deadline);
          if (leader.address.empty()) {
            last_error = "dqlite " + address + ": no leader elected yet";
            continue;
          }
          if (leader.address != address) {
            c = Connection::open(leader.address, deadline);
          }
          out_.clear();
          wire::encode_client(out_, 0);
          c.send(out_, deadline);
          auto m = c.receive(deadline);
          check_on(c, m, protocol::kResponseWelcome);
          wire::decode_welcome(m.body);
          return c;
        } catch (const Error& e) {
          if (e.code() == kErrUsage) throw;
          // A timeout on a retry must not hide a more telling earlier error (a peer that
          // speaks something other than dqlite, a refused connection, ...).
          if (e.code() != kErrTimeout || !informative) last_error = e.what();
          informative = informative || e.code() != kErrTimeout;
        }
      }
      if (Clock::now() + kLeaderPoll >= deadline) break;
      std::this_thread::sleep_for(kLeaderPoll);
    }
    throw Error(kErrTimeout, "dqlite: no leader reachable within " +
                                 std::to_string(options_.connect_timeout_ms) +
                                 " ms; last error: " + last_error);
  }

  NodeInfo ask_leader(Connection& c, Clock::time_point deadline) {
    out_.clear();
    wire::encode_leader(out_);
    c.send(out_, deadline);
    auto m = c.receive(deadline);
    check_on(c, m, protocol::kResponseServer);
    return wire::decode_server(m.body);
  }

  static void check_on(Connection& c, const Connection::Message& m, uint8_t expected) {
    if (m.header.type == expected) return;
    if (m.header.type == protocol::kResponseFailure) {
      wire::Failure f = wire::decode_failure(m.body);
      throw Error(static_cast<int64_t>(f.code), "dqlite " + c.address() + ": " + f.message);
    }
    throw Error(kErrProtocol, "dqlite " + c.address() + ": unexpected response type " +
                                  std::to_string(m.header.type));
  }

  ClientOptions options_;
  Connection conn_;
  wire::Bytes out_;
  std::optional<std::string> database_;
  uint32_t db_id_ = 0;
  std::vector<StmtSlot> stmts_;
  std::vector<StatementId> free_;
};

}  // namespace

std::unique_ptr<Client> Client::connect(const ClientOptions& options) {
  auto client = std::make_unique<ClientImpl>(options);
  client->reconnect();
  return client;
}

}  // namespace cairn::dqlite
