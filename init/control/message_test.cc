#include "init/control/message.h"

#include <gtest/gtest.h>

namespace cairn::init::control {
namespace {

TEST(ControlMessage, RoundTrip) {
  Message m;
  m.kind = "status";
  m.head.add("version", "1");
  m.records.push_back({"service", {}});
  m.records.back().fields.add("name", "a");
  m.records.back().fields.add("member", "x");
  m.records.back().fields.add("member", "y");
  m.records.push_back({"service", {}});
  m.records.back().fields.add("error", "line1\nline2\\ with = sign\x01\x7f\r ünïcode");
  std::string text = encode_message(m);
  EXPECT_EQ(text.substr(0, 26), "status\nversion=1\n[service]");
  Message back;
  ASSERT_EQ(decode_message(text, back), "");
  EXPECT_EQ(back.kind, "status");
  EXPECT_EQ(*back.head.get("version"), "1");
  ASSERT_EQ(back.records.size(), 2u);
  EXPECT_EQ(back.records[0].fields.all("member"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(*back.records[1].fields.get("error"), "line1\nline2\\ with = sign\x01\x7f\r ünïcode");
  EXPECT_EQ(back.records[1].fields.get("absent"), nullptr);
}

TEST(ControlMessage, EscapesAreStrict) {
  EXPECT_EQ(escape_value("a\\b\nc\td"), "a\\\\b\\nc\\x09d");
  std::string out;
  EXPECT_TRUE(unescape_value("a\\\\b\\nc\\x09d", out));
  EXPECT_EQ(out, "a\\b\nc\td");
  for (const char* bad : {"\\", "\\q", "\\x", "\\x4", "\\xzz", "raw\ttab"}) {
    EXPECT_FALSE(unescape_value(bad, out)) << bad;
  }
}

TEST(ControlMessage, RejectsMalformed) {
  Message m;
  const char* bad[] = {"",
                       "status",    // no newline
                       "Status\n",  // upper case kind
                       "status\nnoequals\n",
                       "status\n=value\n",
                       "status\nKey=v\n",
                       "status\n[]\n",
                       "status\n[bad type]\n",
                       "status\nk=\\q\n",
                       "status\nk=v",  // last line unterminated
                       "status\n[x\n"};
  for (const char* text : bad) {
    EXPECT_NE(decode_message(text, m), "") << text;
  }
  EXPECT_EQ(decode_message("ok\n", m), "");
  EXPECT_EQ(m.kind, "ok");
  EXPECT_EQ(decode_message("ok\nk=\n", m), "");
  EXPECT_EQ(*m.head.get("k"), "");
}

}  // namespace
}  // namespace cairn::init::control
