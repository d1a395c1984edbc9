#include "datastore/dqlite/wire.h"

#include <bit>
#include <cstring>

namespace cairn::dqlite::wire {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the wire codec stores integers with memcpy: add byte swaps for big-endian hosts");

constexpr size_t pad8(size_t n) {
  return (n + 7) & ~size_t{7};
}

[[noreturn]] void malformed(std::string_view what) {
  throw Error(kErrProtocol, "malformed dqlite response: " + std::string(what));
}

// ---- encoding -------------------------------------------------------------------------

// Appends one message: reserves the header, lets the body be appended, then fills the header
// with the body size. Bodies are built word-aligned by construction.
class MessageWriter {
 public:
  MessageWriter(Bytes& out, uint8_t type) : out_(out), start_(out.size()), type_(type) {
    out_.resize(start_ + protocol::kHeaderSize);
  }
  ~MessageWriter() = default;
  MessageWriter(const MessageWriter&) = delete;
  MessageWriter& operator=(const MessageWriter&) = delete;

  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }

  // Zero-terminated, zero-padded to a word.
  void text(std::string_view s) {
    if (s.find('\0') != std::string_view::npos) {
      throw Error(kErrUsage, "text sent to dqlite must not contain NUL bytes");
    }
    size_t at = out_.size();
    out_.resize(at + pad8(s.size() + 1), 0);
    std::memcpy(out_.data() + at, s.data(), s.size());
  }

  void finish() {
    size_t body = out_.size() - start_ - protocol::kHeaderSize;
    // Every request has a body: dqlite reads at least one word (e.g. LEADER's unused u64).
    uint32_t words = static_cast<uint32_t>(body / protocol::kWordSize);
    uint8_t* h = out_.data() + start_;
    std::memcpy(h, &words, 4);
    h[4] = type_;
    h[5] = 0;  // schema
    h[6] = 0;
    h[7] = 0;
  }

 private:
  void raw(const void* p, size_t n) {
    size_t at = out_.size();
    out_.resize(at + n);
    std::memcpy(out_.data() + at, p, n);
  }

  Bytes& out_;
  size_t start_;
  uint8_t type_;
};

void put_u64(Bytes& out, uint64_t v) {
  size_t at = out.size();
  out.resize(at + 8);
  std::memcpy(out.data() + at, &v, 8);
}

// ---- decoding -------------------------------------------------------------------------

// A bounds-checked cursor over a response body.
class Reader {
 public:
  explicit Reader(Body body) : p_(body.data()), left_(body.size()) {}

  size_t left() const { return left_; }

  uint64_t u64(std::string_view what) {
    need(8, what);
    uint64_t v;
    std::memcpy(&v, p_, 8);
    skip(8);
    return v;
  }
  uint32_t u32(std::string_view what) {
    need(4, what);
    uint32_t v;
    std::memcpy(&v, p_, 4);
    skip(4);
    return v;
  }
  int64_t i64(std::string_view what) { return static_cast<int64_t>(u64(what)); }
  double f64(std::string_view what) { return std::bit_cast<double>(u64(what)); }

  std::string_view text(std::string_view what) {
    const void* nul = std::memchr(p_, 0, left_);
    if (nul == nullptr) malformed(std::string(what) + ": text without terminating NUL");
    size_t len = static_cast<size_t>(static_cast<const uint8_t*>(nul) - p_);
    size_t padded = pad8(len + 1);
    need(padded, what);
    std::string_view s(reinterpret_cast<const char*>(p_), len);
    skip(padded);
    return s;
  }

  Body blob(std::string_view what) {
    uint64_t len = u64(what);
    if (len > left_) malformed(std::string(what) + ": blob length exceeds message");
    size_t padded = pad8(static_cast<size_t>(len));
    need(padded, what);
    Body b(p_, static_cast<size_t>(len));
    skip(padded);
    return b;
  }

  // Peeks the next word without consuming it; the caller checked left() >= 8.
  uint64_t peek_u64() const {
    uint64_t v;
    std::memcpy(&v, p_, 8);
    return v;
  }
  const uint8_t* data() const { return p_; }
  void skip(size_t n) {
    p_ += n;
    left_ -= n;
  }
  void need(size_t n, std::string_view what) const {
    if (n > left_) malformed(std::string(what) + ": truncated");
  }

 private:
  const uint8_t* p_;
  size_t left_;
};

void expect_consumed(const Reader& r, std::string_view what) {
  if (r.left() != 0) malformed(std::string(what) + ": unexpected trailing bytes");
}

Value decode_value(Reader& r, uint8_t type) {
  switch (type) {
    case protocol::kTypeInteger:
    case protocol::kTypeUnixTime:
      return r.i64("integer value");
    case protocol::kTypeBoolean:
      return static_cast<int64_t>(r.u64("boolean value") != 0 ? 1 : 0);
    case protocol::kTypeFloat:
      return r.f64("float value");
    case protocol::kTypeText:
    case protocol::kTypeIso8601:
      return std::string(r.text("text value"));
    case protocol::kTypeBlob: {
      Body b = r.blob("blob value");
      return Blob(b.begin(), b.end());
    }
    case protocol::kTypeNull:
      r.u64("null value");
      return Null{};
    default:
      malformed("unknown value type " + std::to_string(type));
  }
}

}  // namespace

// ---- requests --------------------------------------------------------------------------

void encode_handshake(Bytes& out) {
  put_u64(out, protocol::kVersion);
}

Header decode_header(std::span<const uint8_t, protocol::kHeaderSize> bytes) {
  Header h;
  std::memcpy(&h.words, bytes.data(), 4);
  h.type = bytes[4];
  h.schema = bytes[5];
  std::memcpy(&h.extra, bytes.data() + 6, 2);
  return h;
}

void encode_params(Bytes& out, const std::vector<Value>& params) {
  if (params.empty()) return;
  if (params.size() > protocol::kMaxParams) {
    throw Error(kErrUsage, "dqlite protocol v1 carries at most 255 parameters per statement, got " +
                               std::to_string(params.size()));
  }
  // Header: count byte + one type byte per param, padded to a word.
  size_t at = out.size();
  size_t header = pad8(1 + params.size());
  size_t body = 0;
  for (const Value& v : params) {
    if (const auto* s = std::get_if<std::string>(&v)) {
      if (s->find('\0') != std::string::npos) {
        throw Error(kErrUsage,
                    "text parameter contains a NUL byte (dqlite binds text as a C string); "
                    "send it as a blob");
      }
      body += pad8(s->size() + 1);
    } else if (const auto* b = std::get_if<Blob>(&v)) {
      body += 8 + pad8(b->size());
    } else {
      body += 8;
    }
  }
  out.resize(at + header + body, 0);
  uint8_t* h = out.data() + at;
  h[0] = static_cast<uint8_t>(params.size());
  uint8_t* p = h + header;
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    if (std::holds_alternative<Null>(v)) {
      h[1 + i] = protocol::kTypeNull;
      p += 8;  // a zero word
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      h[1 + i] = protocol::kTypeInteger;
      std::memcpy(p, n, 8);
      p += 8;
    } else if (const auto* d = std::get_if<double>(&v)) {
      h[1 + i] = protocol::kTypeFloat;
      std::memcpy(p, d, 8);
      p += 8;
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      h[1 + i] = protocol::kTypeText;
      std::memcpy(p, s->data(), s->size());
      p += pad8(s->size() + 1);
    } else {
      const Blob& b = std::get<Blob>(v);
      h[1 + i] = protocol::kTypeBlob;
      uint64_t len = b.size();
      std::memcpy(p, &len, 8);
      if (!b.empty()) std::memcpy(p + 8, b.data(), b.size());
      p += 8 + pad8(b.size());
    }
  }
}

void encode_leader(Bytes& out) {
  MessageWriter m(out, protocol::kRequestLeader);
  m.u64(0);
  m.finish();
}

void encode_client(Bytes& out, uint64_t client_id) {
  MessageWriter m(out, protocol::kRequestClient);
  m.u64(client_id);
  m.finish();
}

void encode_open(Bytes& out, std::string_view database, uint64_t flags, std::string_view vfs) {
  MessageWriter m(out, protocol::kRequestOpen);
  m.text(database);
  m.u64(flags);
  m.text(vfs);
  m.finish();
}

void encode_prepare(Bytes& out, uint32_t db, std::string_view sql) {
  MessageWriter m(out, protocol::kRequestPrepare);
  m.u64(db);
  m.text(sql);
  m.finish();
}

namespace {
void encode_stmt_request(Bytes& out, uint8_t type, uint32_t db, uint32_t stmt,
                         const std::vector<Value>& params) {
  size_t start = out.size();
  try {
    MessageWriter m(out, type);
    m.u32(db);
    m.u32(stmt);
    encode_params(out, params);
    m.finish();
  } catch (...) {
    out.resize(start);
    throw;
  }
}

void encode_sql_request(Bytes& out, uint8_t type, uint32_t db, std::string_view sql,
                        const std::vector<Value>& params) {
  size_t start = out.size();
  try {
    MessageWriter m(out, type);
    m.u64(db);
    m.text(sql);
    encode_params(out, params);
    m.finish();
  } catch (...) {
    out.resize(start);
    throw;
  }
}
}  // namespace

void encode_exec(Bytes& out, uint32_t db, uint32_t stmt, const std::vector<Value>& params) {
  encode_stmt_request(out, protocol::kRequestExec, db, stmt, params);
}

void encode_query(Bytes& out, uint32_t db, uint32_t stmt, const std::vector<Value>& params) {
  encode_stmt_request(out, protocol::kRequestQuery, db, stmt, params);
}

void encode_finalize(Bytes& out, uint32_t db, uint32_t stmt) {
  MessageWriter m(out, protocol::kRequestFinalize);
  m.u32(db);
  m.u32(stmt);
  m.finish();
}

void encode_exec_sql(Bytes& out, uint32_t db, std::string_view sql,
                     const std::vector<Value>& params) {
  encode_sql_request(out, protocol::kRequestExecSql, db, sql, params);
}

void encode_query_sql(Bytes& out, uint32_t db, std::string_view sql,
                      const std::vector<Value>& params) {
  encode_sql_request(out, protocol::kRequestQuerySql, db, sql, params);
}

void encode_interrupt(Bytes& out, uint32_t db) {
  MessageWriter m(out, protocol::kRequestInterrupt);
  m.u64(db);
  m.finish();
}

void encode_cluster(Bytes& out, uint64_t format) {
  MessageWriter m(out, protocol::kRequestCluster);
  m.u64(format);
  m.finish();
}

void encode_add(Bytes& out, uint64_t id, std::string_view address) {
  MessageWriter m(out, protocol::kRequestAdd);
  m.u64(id);
  m.text(address);
  m.finish();
}

void encode_assign(Bytes& out, uint64_t id, uint64_t role) {
  MessageWriter m(out, protocol::kRequestAssign);
  m.u64(id);
  m.u64(role);
  m.finish();
}

// ---- responses -------------------------------------------------------------------------

Failure decode_failure(Body body) {
  Reader r(body);
  Failure f;
  f.code = r.u64("FAILURE code");
  f.message = std::string(r.text("FAILURE message"));
  expect_consumed(r, "FAILURE");
  return f;
}

Client::NodeInfo decode_server(Body body) {
  Reader r(body);
  Client::NodeInfo n;
  n.id = r.u64("SERVER id");
  n.address = std::string(r.text("SERVER address"));
  expect_consumed(r, "SERVER");
  return n;
}

uint64_t decode_welcome(Body body) {
  Reader r(body);
  uint64_t v = r.u64("WELCOME heartbeat timeout");
  expect_consumed(r, "WELCOME");
  return v;
}

uint32_t decode_db(Body body) {
  Reader r(body);
  uint32_t id = r.u32("DB id");
  r.u32("DB padding");
  expect_consumed(r, "DB");
  return id;
}

Stmt decode_stmt(Body body) {
  Reader r(body);
  Stmt s;
  s.db = r.u32("STMT db id");
  s.id = r.u32("STMT id");
  s.params = r.u64("STMT params");
  expect_consumed(r, "STMT");
  return s;
}

ExecResult decode_result(Body body) {
  Reader r(body);
  ExecResult e;
  e.last_insert_id = r.u64("RESULT last insert id");
  e.rows_affected = r.u64("RESULT rows affected");
  expect_consumed(r, "RESULT");
  return e;
}

std::vector<Client::NodeInfo> decode_servers(Body body, uint64_t format) {
  Reader r(body);
  uint64_t n = r.u64("SERVERS count");
  // Each server takes at least 16 bytes: reject absurd counts before reserving memory.
  if (n > r.left() / 16) malformed("SERVERS: count larger than the message");
  std::vector<Client::NodeInfo> out;
  out.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    Client::NodeInfo info;
    info.id = r.u64("SERVERS id");
    info.address = std::string(r.text("SERVERS address"));
    if (format == protocol::kClusterFormatV1) {
      uint64_t role = r.u64("SERVERS role");
      if (role > 2) malformed("SERVERS: unknown role " + std::to_string(role));
      info.role = static_cast<int>(role);
    }
    out.push_back(std::move(info));
  }
  expect_consumed(r, "SERVERS");
  return out;
}

void decode_empty(Body body) {
  Reader r(body);
  r.u64("EMPTY");
  expect_consumed(r, "EMPTY");
}

bool decode_rows(Body body, Rows& rows) {
  Reader r(body);
  uint64_t ncols = r.u64("ROWS column count");
  if (ncols == 0) malformed("ROWS: zero columns");
  // Each column name takes at least one word.
  if (ncols > r.left() / 8) malformed("ROWS: column count larger than the message");
  const bool first_batch = rows.columns.empty() && rows.rows.empty();
  if (!first_batch && ncols != rows.columns.size()) {
    malformed("ROWS: column count changed between batches");
  }
  for (uint64_t i = 0; i < ncols; ++i) {
    std::string_view name = r.text("ROWS column name");
    if (first_batch) {
      rows.columns.emplace_back(name);
    } else if (rows.columns[i] != name) {
      malformed("ROWS: column names changed between batches");
    }
  }
  const size_t n = static_cast<size_t>(ncols);
  const size_t header = pad8((n + 1) / 2);  // 4-bit type codes, padded to a word
  for (;;) {
    r.need(8, "ROWS end marker");
    // A row header's first byte holds two 4-bit type codes (all < 12), so 0xee / 0xff can
    // only start the end marker, which must be the body's last word.
    uint8_t first = r.data()[0];
    if (first == 0xee || first == 0xff) {
      uint64_t marker = r.peek_u64();
      if (marker != protocol::kRowsPart && marker != protocol::kRowsDone) {
        malformed("ROWS: invalid end marker");
      }
      r.skip(8);
      expect_consumed(r, "ROWS");
      return marker == protocol::kRowsPart;
    }
    r.need(header, "ROWS row header");
    const uint8_t* types = r.data();
    r.skip(header);
    Row row;
    row.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      uint8_t type = (i % 2 == 0) ? (types[i / 2] & 0x0f) : (types[i / 2] >> 4);
      row.push_back(decode_value(r, type));
    }
    rows.rows.push_back(std::move(row));
  }
}

}  // namespace cairn::dqlite::wire
