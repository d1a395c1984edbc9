// The wire client against a real embedded dqlite node in a temporary directory.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include <cmath>
#include <cstdio>
#include <limits>
#include <thread>

#include "datastore/dqlite/client.h"
#include "datastore/dqlite/node.h"
#include "datastore/dqlite/test_support.h"

namespace cairn::dqlite {
namespace {

using testing::TempDir;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NodeOptions o;
    o.data_dir = dir_.sub("node");
    o.bind_address = testing::unique_address();
    node_ = Node::start(o);
    client_ = connect();
    client_->open("test");
  }

  std::unique_ptr<Client> connect() {
    ClientOptions co;
    co.addresses = {node_->address()};
    co.connect_timeout_ms = 30000;
    co.request_timeout_ms = 60000;
    return Client::connect(co);
  }

  int64_t count(const std::string& table) {
    Rows r = client_->query_sql("SELECT count(*) FROM " + table);
    return std::get<int64_t>(r.rows.at(0).at(0));
  }

  TempDir dir_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, LeaderAndClusterNameThisNode) {
  Client::NodeInfo leader = client_->leader();
  EXPECT_EQ(leader.id, 1u);
  EXPECT_EQ(leader.address, node_->address());
  auto servers = client_->cluster();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].id, 1u);
  EXPECT_EQ(servers[0].address, node_->address());
  EXPECT_EQ(servers[0].role, 0);
  EXPECT_EQ(client_->address(), node_->address());
  EXPECT_TRUE(client_->connected());
}

TEST_F(ClientTest, EveryParameterTypeRoundTrips) {
  client_->exec_sql("CREATE TABLE t (i INTEGER, f REAL, s TEXT, b BLOB, n)");
  auto insert = client_->prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)");
  const std::vector<Row> rows = {
      {int64_t{42}, 1.5, std::string("hello"), Blob{1, 2, 3}, Null{}},
      {std::numeric_limits<int64_t>::min(), -0.25, std::string(""), Blob{}, Null{}},
      {std::numeric_limits<int64_t>::max(), 1e300,
       std::string("h\xc3\xa9llo w\xc3\xb6rld 12345678"), Blob(1000, 0xab), Null{}},
      {int64_t{-1}, 0.0, std::string(7, 'x'), Blob(8, 0), Null{}},
  };
  int64_t id = 0;
  for (const Row& r : rows) {
    ExecResult res = client_->exec(insert, r);
    EXPECT_EQ(res.rows_affected, 1u);
    EXPECT_EQ(res.last_insert_id, static_cast<uint64_t>(++id));
  }
  client_->finalize(insert);

  auto select = client_->prepare("SELECT i, f, s, b, n FROM t ORDER BY rowid");
  Rows got = client_->query(select);
  EXPECT_EQ(got.columns, (std::vector<std::string>{"i", "f", "s", "b", "n"}));
  ASSERT_EQ(got.rows.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(got.rows[i], rows[i]) << "row " << i;
  }
  // The same through QUERY_SQL with a parameter.
  Rows one = client_->query_sql("SELECT s, b FROM t WHERE i = ?", {int64_t{42}});
  ASSERT_EQ(one.rows.size(), 1u);
  EXPECT_EQ(one.rows[0][0], Value(std::string("hello")));
  EXPECT_EQ(one.rows[0][1], Value(Blob{1, 2, 3}));
}

TEST_F(ClientTest, TypedColumnsDecode) {
  client_->exec_sql("CREATE TABLE d (at DATETIME, ok BOOLEAN, note DATE)");
  client_->exec_sql("INSERT INTO d VALUES (?, ?, ?)",
                    {int64_t{1700000000}, int64_t{1}, std::string("2024-01-02")});
  client_->exec_sql("INSERT INTO d VALUES (NULL, 0, NULL)");
  Rows r = client_->query_sql("SELECT at, ok, note FROM d ORDER BY rowid");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0][0], Value(int64_t{1700000000}));        // UNIXTIME
  EXPECT_EQ(r.rows[0][1], Value(int64_t{1}));                 // BOOLEAN
  EXPECT_EQ(r.rows[0][2], Value(std::string("2024-01-02")));  // ISO8601
  EXPECT_EQ(r.rows[1][0], Value(std::string("")));            // NULL DATETIME is sent as ISO8601 ""
  EXPECT_EQ(r.rows[1][1], Value(int64_t{0}));
}

TEST_F(ClientTest, EmptyResultKeepsColumnNames) {
  client_->exec_sql("CREATE TABLE e (a INTEGER, b TEXT)");
  Rows r = client_->query_sql("SELECT a, b FROM e");
  EXPECT_EQ(r.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.rows.empty());
}

TEST_F(ClientTest, ManyRowsSpanSeveralBatches) {
  client_->exec_sql("CREATE TABLE big (k INTEGER PRIMARY KEY, v BLOB, s TEXT)");
  client_->exec_sql("BEGIN");
  auto ins = client_->prepare("INSERT INTO big (k, v, s) VALUES (?, ?, ?)");
  constexpr int kRows = 10000;
  for (int i = 0; i < kRows; ++i) {
    Blob b(32 + i % 64, static_cast<uint8_t>(i));
    client_->exec(ins, {int64_t{i}, b, "row-" + std::to_string(i)});
  }
  client_->exec_sql("COMMIT");
  // About 1 MB of rows against dqlite's ~4 KB batches: hundreds of ROWS messages.
  Rows r = client_->query_sql("SELECT k, v, s FROM big ORDER BY k");
  ASSERT_EQ(r.rows.size(), static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) {
    ASSERT_EQ(r.rows[i][0], Value(int64_t{i}));
    ASSERT_EQ(std::get<Blob>(r.rows[i][1]), Blob(32 + i % 64, static_cast<uint8_t>(i)));
    ASSERT_EQ(std::get<std::string>(r.rows[i][2]), "row-" + std::to_string(i));
  }
  // The connection is in sync afterwards.
  EXPECT_EQ(count("big"), kRows);
}

TEST_F(ClientTest, LargeBlobRoundTrips) {
  client_->exec_sql("CREATE TABLE lb (v BLOB)");
  Blob big(3 * 1024 * 1024);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  client_->exec_sql("INSERT INTO lb VALUES (?)", {big});
  Rows r = client_->query_sql("SELECT v FROM lb");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(std::get<Blob>(r.rows[0][0]), big);
}

TEST_F(ClientTest, BadSqlGivesFailureWithSqliteMessage) {
  try {
    client_->exec_sql("CREATE TABEL nope (x)");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 1);  // SQLITE_ERROR
    EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
    EXPECT_FALSE(e.retryable());
  }
  try {
    client_->prepare("SELECT * FROM missing_table");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such table: missing_table"), std::string::npos);
  }
  client_->exec_sql("CREATE TABLE u (k TEXT UNIQUE)");
  client_->exec_sql("INSERT INTO u VALUES ('a')");
  try {
    client_->exec_sql("INSERT INTO u VALUES ('a')");
    FAIL() << "expected a constraint error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 2067);  // SQLITE_CONSTRAINT_UNIQUE: dqlite sends extended codes
    EXPECT_NE(std::string(e.what()).find("UNIQUE"), std::string::npos) << e.what();
  }
  // Failures leave the connection usable.
  EXPECT_EQ(count("u"), 1);
}

TEST_F(ClientTest, MismatchedRequestsGetFailuresNotDesync) {
  client_->exec_sql("CREATE TABLE m (v INTEGER)");
  client_->exec_sql("INSERT INTO m VALUES (1), (2)");
  // A statement without result columns sent as a query, and empty SQL.
  EXPECT_THROW(client_->query_sql("INSERT INTO m VALUES (3)"), Error);
  EXPECT_THROW(client_->query_sql(""), Error);
  EXPECT_THROW(client_->prepare("   "), Error);
  ExecResult empty = client_->exec_sql("");
  EXPECT_EQ(empty.rows_affected, 0u);
  // A query run through EXEC still executes without leaving the connection mid-result.
  try {
    client_->exec_sql("SELECT v FROM m");
  } catch (const Error& e) {
    EXPECT_GT(e.code(), 0) << e.what();
  }
  EXPECT_TRUE(client_->connected());
  EXPECT_GE(count("m"), 2);
}

TEST_F(ClientTest, TransactionsOnOneConnection) {
  client_->exec_sql("CREATE TABLE tx (v INTEGER)");
  client_->exec_sql("BEGIN");
  client_->exec_sql("INSERT INTO tx VALUES (1)");
  client_->exec_sql("INSERT INTO tx VALUES (2)");
  client_->exec_sql("ROLLBACK");
  EXPECT_EQ(count("tx"), 0);
  client_->exec_sql("BEGIN");
  for (int i = 0; i < 100; ++i) client_->exec_sql("INSERT INTO tx VALUES (?)", {int64_t{i}});
  client_->exec_sql("COMMIT");
  EXPECT_EQ(count("tx"), 100);
  // Several statements in one EXEC_SQL.
  client_->exec_sql("BEGIN; INSERT INTO tx VALUES (1000); INSERT INTO tx VALUES (1001); COMMIT");
  EXPECT_EQ(count("tx"), 102);
}

TEST_F(ClientTest, TwoClientsAtOnce) {
  client_->exec_sql("CREATE TABLE shared (who INTEGER, n INTEGER)");
  auto second = connect();
  second->open("test");
  constexpr int kEach = 200;
  auto work = [](Client* c, int who) {
    auto st = c->prepare("INSERT INTO shared VALUES (?, ?)");
    for (int i = 0; i < kEach; ++i) {
      for (;;) {
        try {
          c->exec(st, {int64_t{who}, int64_t{i}});
          break;
        } catch (const Error& e) {
          if (!e.retryable()) throw;  // BUSY while the other writes: try again
        }
      }
    }
  };
  std::thread t1(work, client_.get(), 1);
  std::thread t2(work, second.get(), 2);
  t1.join();
  t2.join();
  EXPECT_EQ(count("shared"), 2 * kEach);
  Rows r = second->query_sql("SELECT who, count(*) FROM shared GROUP BY who ORDER BY who");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1][1], Value(int64_t{kEach}));
}

TEST_F(ClientTest, PipelinedExecsRunInOrder) {
  client_->exec_sql("CREATE TABLE p (k INTEGER PRIMARY KEY, v TEXT)");
  auto ins = client_->prepare("INSERT INTO p VALUES (?, ?)");
  std::vector<Client::Exec> batch;
  batch.push_back({0, "BEGIN", {}});
  for (int i = 1; i <= 1000; ++i) batch.push_back({ins, "", {int64_t{i}, std::to_string(i)}});
  batch.push_back({0, "UPDATE p SET v = 'x' WHERE k <= ?", {int64_t{10}}});
  auto results = client_->exec_pipelined(batch);
  ASSERT_EQ(results.size(), batch.size());
  EXPECT_EQ(results[500].last_insert_id, 500u);
  EXPECT_EQ(results.back().rows_affected, 10u);
  client_->exec_sql("COMMIT");
  EXPECT_EQ(count("p"), 1000);
}

TEST_F(ClientTest, PipelinedFailureIsReportedAfterAllResponses) {
  client_->exec_sql("CREATE TABLE pf (k INTEGER PRIMARY KEY)");
  auto ins = client_->prepare("INSERT INTO pf VALUES (?)");
  std::vector<Client::Exec> batch;
  for (int i : {1, 2, 2, 3, 1}) batch.push_back({ins, "", {int64_t{i}}});
  try {
    client_->exec_pipelined(batch);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code() & 0xff, 19);
    EXPECT_NE(std::string(e.what()).find("pipelined item 2:"), std::string::npos) << e.what();
  }
  // Items after the failure ran too, and the connection is in sync.
  EXPECT_EQ(count("pf"), 3);
  // A usage error anywhere in the batch throws before anything runs.
  batch = {{ins, "", {int64_t{10}}}, {ins, "", std::vector<Value>(300, Null{})}};
  EXPECT_THROW(client_->exec_pipelined(batch), Error);
  EXPECT_EQ(count("pf"), 3);
}

TEST_F(ClientTest, UsageErrorsAreClearAndKeepTheConnection) {
  std::vector<Value> too_many(256, int64_t{1});
  try {
    client_->query_sql("SELECT 1", too_many);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kErrUsage);
    EXPECT_NE(std::string(e.what()).find("255"), std::string::npos);
  }
  try {
    client_->query_sql("SELECT ?", {std::string("a\0b", 3)});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kErrUsage);
  }
  EXPECT_THROW(client_->exec(999), Error);
  try {
    client_->open("other");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kErrUsage);
  }
  EXPECT_TRUE(client_->connected());
  Rows r = client_->query_sql("SELECT ?, ?", {int64_t{7}, std::string("ok")});
  EXPECT_EQ(r.rows.at(0).at(1), Value(std::string("ok")));
}

TEST_F(ClientTest, StatementsSurviveReconnect) {
  client_->exec_sql("CREATE TABLE r (v INTEGER)");
  auto ins = client_->prepare("INSERT INTO r VALUES (?)");
  auto sel = client_->prepare("SELECT count(*) FROM r");
  client_->exec(ins, {int64_t{1}});
  client_->reconnect();
  client_->exec(ins, {int64_t{2}});
  EXPECT_EQ(client_->query(sel).rows.at(0).at(0), Value(int64_t{2}));
  client_->finalize(ins);
  EXPECT_THROW(client_->exec(ins, {int64_t{3}}), Error);
}

TEST_F(ClientTest, NodeStopGivesTransportError) {
  node_->stop();
  try {
    client_->query_sql("SELECT 1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_LT(e.code(), 0);
    EXPECT_TRUE(e.transport());
  }
  EXPECT_FALSE(client_->connected());
  EXPECT_THROW(client_->query_sql("SELECT 1"), Error);
}

TEST(ClientConnect, UnreachableAddressTimesOut) {
  ClientOptions co;
  co.addresses = {testing::unique_address()};
  co.connect_timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  try {
    Client::connect(co);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kErrTimeout);
    EXPECT_NE(std::string(e.what()).find(co.addresses[0]), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// A listening abstract socket that we control, standing in for a broken server.
class FakeServer {
 public:
  FakeServer() : address_(testing::unique_address()) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path + 1, address_.data() + 1, address_.size() - 1);
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd_, 16) != 0) {
      throw std::runtime_error("fake server: bind/listen failed");
    }
  }
  ~FakeServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  const std::string& address() const { return address_; }

  // Accepts one connection, reads the handshake and one request, writes `reply`, and keeps
  // the connection open until the client closes it.
  void answer_once(std::vector<uint8_t> reply) {
    thread_ = std::thread([this, reply] {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      uint8_t buf[24];
      size_t got = 0;
      while (got < sizeof buf) {
        ssize_t n = ::read(c, buf + got, sizeof buf - got);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      if (::write(c, reply.data(), reply.size()) < 0) {
        ::close(c);
        return;
      }
      while (::read(c, buf, sizeof buf) > 0) {
      }
      ::close(c);
    });
  }

 private:
  std::string address_;
  int fd_ = -1;
  std::thread thread_;
};

TEST(ClientConnect, SilentServerTimesOut) {
  FakeServer server;  // listens but never accepts nor answers
  ClientOptions co;
  co.addresses = {server.address()};
  co.connect_timeout_ms = 500;
  try {
    Client::connect(co);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kErrTimeout);
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
  }
}

TEST(ClientConnect, GarbageResponseIsAProtocolError) {
  FakeServer server;
  // A header announcing a 2^32-1 word body: rejected before allocating anything.
  server.answer_once({0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0});
  ClientOptions co;
  co.addresses = {server.address()};
  co.connect_timeout_ms = 1000;
  try {
    Client::connect(co);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit"), std::string::npos) << e.what();
  }
}

TEST(ClientConnect, WrongResponseTypeIsAProtocolError) {
  FakeServer server;
  // A RESULT where LEADER expects SERVER.
  std::vector<uint8_t> reply = {2, 0, 0, 0, 6, 0, 0, 0};
  reply.resize(reply.size() + 16, 0);
  server.answer_once(reply);
  ClientOptions co;
  co.addresses = {server.address()};
  co.connect_timeout_ms = 1000;
  try {
    Client::connect(co);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected response type 6"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cairn::dqlite
