// Byte-exact tests of the dqlite wire codec (layouts from dqlite's src/request.h,
// response.h, tuple.h and lib/serialize.h: little-endian words, text NUL-terminated and
// padded to 8 bytes, blobs length-prefixed and padded, 4-bit row / 8-bit param type codes).
#include "datastore/dqlite/wire.h"

#include <gtest/gtest.h>

#include <cstring>

namespace cairn::dqlite::wire {
namespace {

Bytes u64(uint64_t v) {
  Bytes b(8);
  std::memcpy(b.data(), &v, 8);
  return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes text(std::string_view s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  while (b.size() % 8 != 0) b.push_back(0);
  return b;
}

Bytes header(uint32_t words, uint8_t type) {
  return {uint8_t(words),
          uint8_t(words >> 8),
          uint8_t(words >> 16),
          uint8_t(words >> 24),
          type,
          0,
          0,
          0};
}

template <typename F>
int64_t error_code(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return 0;
}

TEST(WireEncode, Handshake) {
  Bytes out;
  encode_handshake(out);
  EXPECT_EQ(out, (Bytes{1, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(WireEncode, LeaderAndClientAndCluster) {
  Bytes out;
  encode_leader(out);
  EXPECT_EQ(out, cat({header(1, 0), u64(0)}));
  out.clear();
  encode_client(out, 0x0102);
  EXPECT_EQ(out, cat({header(1, 1), u64(0x0102)}));
  out.clear();
  encode_cluster(out, 1);
  EXPECT_EQ(out, cat({header(1, 16), u64(1)}));
}

TEST(WireEncode, OpenPadsText) {
  Bytes out;
  encode_open(out, "db");  // "db\0" + 5 pad, flags, "" + 7 pad
  EXPECT_EQ(out, cat({header(3, 3), text("db"), u64(0), text("")}));
  out.clear();
  encode_open(out, "1234567");  // exactly 8 with its NUL: no padding word
  EXPECT_EQ(out, cat({header(3, 3), text("1234567"), u64(0), text("")}));
  EXPECT_EQ(out.size(), 8u + 8 + 8 + 8);
  out.clear();
  encode_open(out, "12345678");  // 9 with NUL: two words
  EXPECT_EQ(out.size(), 8u + 16 + 8 + 8);
}

TEST(WireEncode, PrepareExecFinalize) {
  Bytes out;
  encode_prepare(out, 0, "SELECT 1");
  EXPECT_EQ(out, cat({header(3, 4), u64(0), text("SELECT 1")}));
  out.clear();
  encode_exec(out, 0, 7, {});
  // u32 db, u32 stmt, no params tuple at all.
  EXPECT_EQ(out, cat({header(1, 5), Bytes{0, 0, 0, 0, 7, 0, 0, 0}}));
  out.clear();
  encode_finalize(out, 2, 9);
  EXPECT_EQ(out, cat({header(1, 7), Bytes{2, 0, 0, 0, 9, 0, 0, 0}}));
}

TEST(WireEncode, ParamsTupleLayout) {
  Bytes out;
  encode_query(out, 0, 1, {int64_t{-2}, 0.5, std::string("hi"), Blob{9, 8, 7}, Null{}});
  // Tuple header: count 5 + types 1,2,3,4,5, padded to 8 bytes.
  Bytes params_header{5, 1, 2, 3, 4, 5, 0, 0};
  double half = 0.5;
  uint64_t half_bits;
  std::memcpy(&half_bits, &half, 8);
  Bytes expect = cat({header(8, 6), Bytes{0, 0, 0, 0, 1, 0, 0, 0}, params_header,
                      u64(static_cast<uint64_t>(int64_t{-2})), u64(half_bits), text("hi"), u64(3),
                      Bytes{9, 8, 7, 0, 0, 0, 0, 0}, u64(0)});
  EXPECT_EQ(out, expect);
}

TEST(WireEncode, ParamsHeaderGrowsPastSevenParams) {
  Bytes out;
  std::vector<Value> eight(8, int64_t{1});
  encode_params(out, eight);
  // 1 count byte + 8 type bytes = 9 -> padded to 16, then 8 words of values.
  ASSERT_EQ(out.size(), 16u + 64);
  EXPECT_EQ(out[0], 8);
  for (int i = 1; i <= 8; ++i) EXPECT_EQ(out[i], 1) << i;
  for (int i = 9; i < 16; ++i) EXPECT_EQ(out[i], 0) << i;
}

TEST(WireEncode, ExecSqlWithParams) {
  Bytes out;
  encode_exec_sql(out, 0, "INSERT", {std::string("")});
  EXPECT_EQ(out,
            cat({header(4, 8), u64(0), text("INSERT"), Bytes{1, 3, 0, 0, 0, 0, 0, 0}, text("")}));
}

TEST(WireEncode, RejectsWhatDqliteWouldMangle) {
  Bytes out = {0xaa};
  EXPECT_EQ(error_code([&] { encode_exec_sql(out, 0, "x", std::vector<Value>(256, Null{})); }),
            kErrUsage);
  EXPECT_EQ(out, Bytes{0xaa});  // nothing half-written
  EXPECT_EQ(error_code([&] { encode_query(out, 0, 1, {std::string("a\0b", 3)}); }), kErrUsage);
  EXPECT_EQ(out, Bytes{0xaa});
  EXPECT_EQ(error_code([&] { encode_prepare(out, 0, std::string("a\0b", 3)); }), kErrUsage);
  std::vector<Value> max(255, Null{});
  EXPECT_NO_THROW(encode_params(out, max));
}

TEST(WireDecode, Header) {
  Bytes h = {3, 0, 0, 0, 7, 1, 0x34, 0x12};
  Header got = decode_header(std::span<const uint8_t, 8>(h.data(), 8));
  EXPECT_EQ(got.words, 3u);
  EXPECT_EQ(got.type, 7);
  EXPECT_EQ(got.schema, 1);
  EXPECT_EQ(got.extra, 0x1234);
}

TEST(WireDecode, SimpleResponses) {
  Failure f = decode_failure(cat({u64(10250), text("not leader")}));
  EXPECT_EQ(f.code, 10250u);
  EXPECT_EQ(f.message, "not leader");
  Client::NodeInfo s = decode_server(cat({u64(1), text("@sock")}));
  EXPECT_EQ(s.id, 1u);
  EXPECT_EQ(s.address, "@sock");
  EXPECT_EQ(decode_welcome(u64(15000)), 15000u);
  EXPECT_EQ(decode_db(Bytes{5, 0, 0, 0, 0, 0, 0, 0}), 5u);
  Stmt st = decode_stmt(cat({Bytes{0, 0, 0, 0, 3, 0, 0, 0}, u64(2)}));
  EXPECT_EQ(st.id, 3u);
  EXPECT_EQ(st.params, 2u);
  ExecResult r = decode_result(cat({u64(9), u64(1)}));
  EXPECT_EQ(r.last_insert_id, 9u);
  EXPECT_EQ(r.rows_affected, 1u);
  auto servers =
      decode_servers(cat({u64(2), u64(1), text("a:1"), u64(0), u64(2), text("b:2"), u64(2)}), 1);
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(servers[1].id, 2u);
  EXPECT_EQ(servers[1].address, "b:2");
  EXPECT_EQ(servers[1].role, 2);
  EXPECT_NO_THROW(decode_empty(u64(0)));
}

Bytes row_header(std::initializer_list<uint8_t> types) {
  Bytes h;
  size_t i = 0;
  for (uint8_t t : types) {
    if (i % 2 == 0)
      h.push_back(t);
    else
      h.back() |= static_cast<uint8_t>(t << 4);
    ++i;
  }
  while (h.size() % 8 != 0) h.push_back(0);
  return h;
}

TEST(WireDecode, RowsOfEveryType) {
  double f = -1.25;
  uint64_t fbits;
  std::memcpy(&fbits, &f, 8);
  Bytes body = cat({u64(5),
                    text("i"),
                    text("f"),
                    text("s"),
                    text("b"),
                    text("n"),
                    row_header({1, 2, 3, 4, 5}),
                    u64(static_cast<uint64_t>(int64_t{-7})),
                    u64(fbits),
                    text("hey"),
                    u64(2),
                    Bytes{1, 2, 0, 0, 0, 0, 0, 0},
                    u64(0),
                    row_header({9, 11, 10, 5, 5}),
                    u64(1700000000),
                    u64(5),
                    text("2024-01-01"),
                    u64(0),
                    u64(0),
                    u64(protocol::kRowsDone)});
  Rows rows;
  EXPECT_FALSE(decode_rows(body, rows));
  EXPECT_EQ(rows.columns, (std::vector<std::string>{"i", "f", "s", "b", "n"}));
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.rows[0], (Row{int64_t{-7}, -1.25, std::string("hey"), Blob{1, 2}, Null{}}));
  EXPECT_EQ(rows.rows[1],
            (Row{int64_t{1700000000}, int64_t{1}, std::string("2024-01-01"), Null{}, Null{}}));
}

TEST(WireDecode, RowsBatchesContinueAndMustAgree) {
  Bytes part = cat({u64(1), text("k"), row_header({1}), u64(1), u64(protocol::kRowsPart)});
  Bytes done = cat({u64(1), text("k"), row_header({1}), u64(2), u64(protocol::kRowsDone)});
  Rows rows;
  EXPECT_TRUE(decode_rows(part, rows));
  EXPECT_FALSE(decode_rows(done, rows));
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.rows[1][0], Value(int64_t{2}));
  Bytes renamed = cat({u64(1), text("x"), u64(protocol::kRowsDone)});
  Rows again;
  decode_rows(part, again);
  EXPECT_EQ(error_code([&] { decode_rows(renamed, again); }), kErrProtocol);
}

TEST(WireDecode, RowsWithSeventeenColumnsUseTwoHeaderWords) {
  Bytes body = cat({u64(17)});
  for (int i = 0; i < 17; ++i) body = cat({body, text("c" + std::to_string(i))});
  Bytes h(16, 0x11);  // 16 integer slots in word one...
  h[8] = 0x01;        // ...the 17th in word two
  for (int i = 9; i < 16; ++i) h[i] = 0;
  body = cat({body, h});
  for (int i = 0; i < 17; ++i) body = cat({body, u64(i)});
  body = cat({body, u64(protocol::kRowsDone)});
  Rows rows;
  decode_rows(body, rows);
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0][16], Value(int64_t{16}));
}

TEST(WireDecode, MalformedInputIsRejectedNotOverRead) {
  auto bad = [](Bytes b, auto decode) {
    // Copy into an exactly sized heap buffer so ASan catches any over-read.
    auto owned = std::make_unique<uint8_t[]>(b.size() + 1);
    if (!b.empty()) std::memcpy(owned.get(), b.data(), b.size());
    Body body(owned.get(), b.size());
    return error_code([&] { decode(body); });
  };
  auto rows = [](Body b) {
    Rows r;
    decode_rows(b, r);
  };
  EXPECT_EQ(bad({}, [](Body b) { decode_failure(b); }), kErrProtocol);
  EXPECT_EQ(bad(cat({u64(1), Bytes{'a', 'b', 'c'}}), [](Body b) { decode_failure(b); }),
            kErrProtocol);  // text without NUL
  EXPECT_EQ(bad(cat({u64(1), Bytes{'a', 0}}), [](Body b) { decode_failure(b); }),
            kErrProtocol);  // padding missing
  EXPECT_EQ(bad(cat({u64(1), text("x"), u64(0)}), [](Body b) { decode_server(b); }),
            kErrProtocol);  // trailing bytes
  EXPECT_EQ(bad(u64(1u << 30), [](Body b) { decode_servers(b, 1); }), kErrProtocol);
  EXPECT_EQ(bad(cat({u64(1), u64(1), text("a"), u64(7)}), [](Body b) { decode_servers(b, 1); }),
            kErrProtocol);                                       // bad role
  EXPECT_EQ(bad(u64(0), rows), kErrProtocol);                    // zero columns
  EXPECT_EQ(bad(u64(~uint64_t{0}), rows), kErrProtocol);         // huge column count
  EXPECT_EQ(bad(cat({u64(1), text("k")}), rows), kErrProtocol);  // no end marker
  EXPECT_EQ(bad(cat({u64(1), text("k"), row_header({1})}), rows), kErrProtocol);  // no value
  EXPECT_EQ(bad(cat({u64(1), text("k"), row_header({7}), u64(0), u64(protocol::kRowsDone)}), rows),
            kErrProtocol);  // unknown type
  EXPECT_EQ(
      bad(cat({u64(1), text("k"), row_header({4}), u64(1000), u64(protocol::kRowsDone)}), rows),
      kErrProtocol);  // blob longer than message
  EXPECT_EQ(bad(cat({u64(1), text("k"), row_header({4}), u64(~uint64_t{0} - 3)}), rows),
            kErrProtocol);  // blob length that overflows padding
  EXPECT_EQ(bad(cat({u64(1), text("k"), u64(protocol::kRowsDone), u64(0)}), rows),
            kErrProtocol);  // data after the marker
  EXPECT_EQ(bad(cat({u64(1), text("k"), u64(0xeeeeeeeeeeeeee00ULL)}), rows),
            kErrProtocol);  // broken marker
}

}  // namespace
}  // namespace cairn::dqlite::wire
