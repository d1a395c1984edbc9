#include "common/units.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace cairn {
namespace {

using std::chrono::milliseconds;

struct DurationCase {
  const char* text;
  int64_t ms;  // -1: expect an error
};

TEST(Units, Durations) {
  const DurationCase cases[] = {
      {"100ms", 100},
      {"30s", 30'000},
      {"5m", 300'000},
      {"1h", 3'600'000},
      {"1h30m", 5'400'000},
      {"2m30s500ms", 150'500},
      {"0", 0},
      {"0s", 0},
      {"1d", 86'400'000},
      {"", -1},
      {"10", -1},
      {"s", -1},
      {"1x", -1},
      {"-1s", -1},
      {"1.5s", -1},
      {"30m1h", -1},
      {"1s1s", -1},
      {"1 s", -1},
      {"99999999999999999999s", -1},
      {"40000d", -1},
      {"5M", -1},
  };
  for (const auto& c : cases) {
    milliseconds out{-7};
    std::string error = parse_duration(c.text, out);
    if (c.ms < 0) {
      EXPECT_FALSE(error.empty()) << c.text;
      EXPECT_EQ(out.count(), -7) << c.text;
    } else {
      EXPECT_EQ(error, "") << c.text;
      EXPECT_EQ(out.count(), c.ms) << c.text;
    }
  }
}

TEST(Units, DurationErrorsSayWhy) {
  milliseconds out{};
  EXPECT_NE(parse_duration("10", out).find("needs a unit"), std::string::npos);
  EXPECT_NE(parse_duration("3y", out).find("unknown duration unit \"y\""), std::string::npos);
}

struct SizeCase {
  const char* text;
  bool ok;
  std::optional<uint64_t> bytes;
};

TEST(Units, ByteSizes) {
  const SizeCase cases[] = {
      {"512K", true, 512ull << 10},
      {"1M", true, 1ull << 20},
      {"1G", true, 1ull << 30},
      {"1GiB", true, 1ull << 30},
      {"2TiB", true, 2ull << 40},
      {"4096", true, 4096},
      {"10B", true, 10},
      {"0", true, 0},
      {"max", true, std::nullopt},
      {"", false, 0},
      {"1KB", false, 0},
      {"1g", false, 0},
      {"-1", false, 0},
      {"1.5G", false, 0},
      {"G", false, 0},
      {"99999999999T", false, 0},
      {"18446744073709551616", false, 0},
  };
  for (const auto& c : cases) {
    std::optional<uint64_t> out = 12345;
    std::string error = parse_byte_size(c.text, out);
    if (!c.ok) {
      EXPECT_FALSE(error.empty()) << c.text;
      EXPECT_EQ(out, std::optional<uint64_t>(12345)) << c.text;
    } else {
      EXPECT_EQ(error, "") << c.text;
      EXPECT_EQ(out, c.bytes) << c.text;
    }
  }
  std::optional<uint64_t> out;
  EXPECT_FALSE(parse_byte_size("max", out, /*allow_max=*/false).empty());
}

TEST(Units, Signals) {
  int out = 0;
  EXPECT_EQ(parse_signal("SIGTERM", out), "");
  EXPECT_EQ(out, SIGTERM);
  EXPECT_EQ(parse_signal("TERM", out), "");
  EXPECT_EQ(out, SIGTERM);
  EXPECT_EQ(parse_signal("SIGKILL", out), "");
  EXPECT_EQ(out, SIGKILL);
  EXPECT_EQ(parse_signal("9", out), "");
  EXPECT_EQ(out, 9);
  EXPECT_EQ(parse_signal("SIGRTMIN+3", out), "");
  EXPECT_EQ(out, SIGRTMIN + 3);
  EXPECT_EQ(parse_signal("RTMIN", out), "");
  EXPECT_EQ(out, SIGRTMIN);
  out = -1;
  for (const char* bad :
       {"", "SIGFOO", "sigterm", "0", "65", "9x", "SIGRTMIN+", "SIGRTMIN+99", "SIG"}) {
    EXPECT_FALSE(parse_signal(bad, out).empty()) << bad;
    EXPECT_EQ(out, -1) << bad;
  }
}

TEST(Units, SignalNames) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
  EXPECT_EQ(signal_name(SIGRTMIN + 2), "SIGRTMIN+2");
  EXPECT_EQ(signal_name(200), "signal 200");
  for (int s : {1, 2, 9, 15, 17, 30, 31, SIGRTMIN, SIGRTMIN + 5}) {
    int back = 0;
    EXPECT_EQ(parse_signal(signal_name(s), back), "") << s;
    EXPECT_EQ(back, s);
  }
}

TEST(Units, Formatting) {
  EXPECT_EQ(format_bytes(100), "100B");
  EXPECT_EQ(format_bytes(10 << 10), "10K");
  EXPECT_EQ(format_bytes(1536ull << 20), "1.5G");
  EXPECT_EQ(format_duration(milliseconds(850)), "850ms");
  EXPECT_EQ(format_duration(milliseconds(1234)), "1.234s");
  EXPECT_EQ(format_duration(milliseconds(123'000)), "2m03s");
  EXPECT_EQ(format_duration(milliseconds(3'720'000)), "1h02m");
  EXPECT_EQ(format_duration(milliseconds(-1)), "-");
}

}  // namespace
}  // namespace cairn
