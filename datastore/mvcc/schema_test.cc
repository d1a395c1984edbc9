// The schema against a real dqlite node: a fresh database gets its tables, format and identity
// (written in one transaction), and a restarted node finds the same identity.
#include "datastore/mvcc/schema.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "datastore/testing/temp_node.h"

namespace cairn::datastore::mvcc {
namespace {

std::string meta_text(dqlite::Client& client, const std::string& name) {
  auto rows = client.query_sql("SELECT value FROM meta WHERE name = ?", {name});
  if (rows.rows.empty() || rows.rows[0].empty()) return "<absent>";
  if (auto* s = std::get_if<std::string>(&rows.rows[0][0])) return *s;
  return "<not text>";
}

TEST(SchemaTest, FreshDatabaseGetsTablesFormatAndIdentityThatSurviveRestart) {
  testing::TempNode node;
  Identity first;
  {
    auto client = dqlite::Client::connect(node.client_options());
    client->open("schema-test");
    first = ensure_schema(*client);
    EXPECT_NE(first.cluster_id, 0u);
    EXPECT_NE(first.member_id, 0u);
    EXPECT_NE(first.cluster_id, first.member_id);
    EXPECT_EQ(meta_text(*client, "format"), kFormat);
    auto tables = client->query_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
        "('kv', 'lease', 'meta')");
    ASSERT_EQ(tables.rows.size(), 1u);
    EXPECT_EQ(std::get<int64_t>(tables.rows[0][0]), 3);
    // Verifying again changes nothing.
    Identity again = ensure_schema(*client);
    EXPECT_EQ(again.cluster_id, first.cluster_id);
    EXPECT_EQ(again.member_id, first.member_id);
  }
  node.restart();
  auto client = dqlite::Client::connect(node.client_options());
  client->open("schema-test");
  Identity after = ensure_schema(*client);
  EXPECT_EQ(after.cluster_id, first.cluster_id);
  EXPECT_EQ(after.member_id, first.member_id);
  EXPECT_EQ(meta_text(*client, "format"), kFormat);
}

}  // namespace
}  // namespace cairn::datastore::mvcc
