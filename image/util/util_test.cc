#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "image/util/process.h"
#include "image/util/read_text.h"
#include "image/util/sha256.h"

namespace cairn::image {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, FileMatchesString) {
  auto path = std::filesystem::temp_directory_path() / ("cairn-sha-" + std::to_string(getpid()));
  std::ofstream(path) << "abc";
  EXPECT_EQ(sha256_file(path), sha256_hex("abc"));
  std::filesystem::remove(path);
  EXPECT_THROW(sha256_file(path), std::runtime_error);
}

// Holes (skipped, hashed as zeros) around data, data at the end, an empty file, and a file
// bigger than one read buffer: the same digest as the bytes themselves.
TEST(Sha256, SparseFileMatchesItsBytes) {
  namespace fs = std::filesystem;
  auto path = fs::temp_directory_path() / ("cairn-sha-sparse-" + std::to_string(getpid()));
  std::string bytes(5 * 1024 * 1024 + 123, '\0');
  for (size_t i = 0; i < 70000; ++i) bytes[(2 << 20) + i] = static_cast<char>('a' + i % 26);
  bytes[bytes.size() - 1] = 'z';
  { std::ofstream out(path, std::ios::binary); }
  fs::resize_file(path, bytes.size());  // all hole
  {
    std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(2 << 20);
    out.write(bytes.data() + (2 << 20), 70000);
    out.seekp(static_cast<std::streamoff>(bytes.size() - 1));
    out.put('z');
  }
  EXPECT_EQ(sha256_file(path), sha256_hex(bytes));
  fs::resize_file(path, 0);
  EXPECT_EQ(sha256_file(path), sha256_hex(""));
  fs::remove(path);
}

// The disk stage's way of hashing the raw image from its parts: file ranges (holes, data,
// past the end), zeros and bytes in one stream give the digest of the assembled bytes.
TEST(Sha256, StreamOfFileRangesAndZeros) {
  namespace fs = std::filesystem;
  auto path = fs::temp_directory_path() / ("cairn-sha-stream-" + std::to_string(getpid()));
  std::string content(3 << 20, '\0');
  for (size_t i = 0; i < 5000; ++i) content[(1 << 20) + 7 + i] = static_cast<char>(i * 31);
  { std::ofstream out(path, std::ios::binary); }
  fs::resize_file(path, content.size());
  {
    std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp((1 << 20) + 7);
    out.write(content.data() + (1 << 20) + 7, 5000);
  }
  Sha256Stream stream;
  stream.update("head", 4);
  stream.update_file(path, 1000, (1 << 20));  // hole, then the start of the data
  stream.update_zeros(12345);
  stream.update_file(path, (2 << 20), (2 << 20));  // a hole, then 1 MiB past the end
  stream.update_file(path, 5 << 20, 10);           // wholly past the end
  std::string expected = "head" + content.substr(1000, 1 << 20) + std::string(12345, '\0') +
                         content.substr(2 << 20) + std::string((1 << 20) + 10, '\0');
  EXPECT_EQ(stream.hex(), sha256_hex(expected));
  fs::remove(path);
  Sha256Stream missing;
  EXPECT_THROW(missing.update_file(path, 0, 1), std::runtime_error);
}

TEST(Process, CapturesStdoutAndPassesEnv) {
  RunOptions o;
  o.env = {{"CAIRN_TEST_VALUE", "x y"}};
  EXPECT_EQ(run({"sh", "-c", "printf '%s' \"$CAIRN_TEST_VALUE\""}, o), "x y");
}

TEST(Process, FailureCarriesCommandAndStderr) {
  try {
    run({"sh", "-c", "echo first >&2; echo 'the reason' >&2; exit 3"});
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("exit status 3"), std::string::npos) << m;
    EXPECT_NE(m.find("the reason"), std::string::npos) << m;
    EXPECT_NE(m.find("sh -c"), std::string::npos) << m;
  }
}

TEST(Process, MissingToolIsAClearError) {
  try {
    run({"cairn-no-such-tool-xyz"});
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run cairn-no-such-tool-xyz"), std::string::npos);
  }
}

TEST(Process, QuoteCommand) {
  EXPECT_EQ(quote_command({"a", "b c", "it's"}), "a 'b c' 'it'\\''s'");
}

TEST(ReadText, ReturnsTheBytesAndNamesAMissingFile) {
  auto file = std::filesystem::temp_directory_path() / "cairn-read-text-test";
  std::ofstream(file, std::ios::binary) << std::string("a\0b\n", 4);
  EXPECT_EQ(read_text(file), std::string("a\0b\n", 4));
  std::filesystem::remove(file);
  try {
    read_text(file);
    FAIL() << "no error for a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": cannot read");
  }
}

}  // namespace
}  // namespace cairn::image
