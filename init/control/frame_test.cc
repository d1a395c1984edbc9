#include "init/control/frame.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace cairn::init::control {
namespace {

TEST(ControlFrame, HeaderIsBigEndianLength) {
  std::string f = frame("abc");
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f.substr(0, 4), std::string("\0\0\0\3", 4));
  EXPECT_EQ(f.substr(4), "abc");
}

TEST(ControlFrame, DecoderHandlesPartialAndMultipleFrames) {
  std::string stream = frame("first") + frame("second") + frame("third");
  FrameDecoder decoder;
  std::vector<std::string> got;
  std::string payload, error;
  // One byte at a time: the worst a non-blocking read can do.
  for (char c : stream) {
    decoder.feed(std::string_view(&c, 1));
    while (true) {
      auto status = decoder.next(payload, error);
      ASSERT_NE(status, FrameDecoder::Status::Error) << error;
      if (status == FrameDecoder::Status::NeedMore) break;
      got.push_back(payload);
    }
  }
  EXPECT_EQ(got, (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(ControlFrame, DecoderRejectsBadLengthsBeforeBuffering) {
  std::string payload, error;
  FrameDecoder zero;
  zero.feed(std::string("\0\0\0\0", 4));
  EXPECT_EQ(zero.next(payload, error), FrameDecoder::Status::Error);
  EXPECT_NE(error.find("invalid frame length 0"), std::string::npos);

  FrameDecoder capped(100);
  capped.feed(std::string("\0\0\0\x65", 4));  // 101
  EXPECT_EQ(capped.next(payload, error), FrameDecoder::Status::Error);
  EXPECT_EQ(capped.next(payload, error), FrameDecoder::Status::Error);  // stays failed

  FrameDecoder huge;
  huge.feed(std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(huge.next(payload, error), FrameDecoder::Status::Error);
}

TEST(ControlFrame, BlockingReadWriteOverSocketPair) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string big(300'000, 'x');  // larger than a socket buffer: needs the writer to loop
  std::thread writer([&] {
    std::string error;
    EXPECT_TRUE(write_frame(fds[0], "hello", error)) << error;
    EXPECT_TRUE(write_frame(fds[0], big, error)) << error;
    close(fds[0]);
  });
  std::string payload, error;
  EXPECT_EQ(read_frame(fds[1], payload, error), ReadStatus::Frame) << error;
  EXPECT_EQ(payload, "hello");
  EXPECT_EQ(read_frame(fds[1], payload, error), ReadStatus::Frame) << error;
  EXPECT_EQ(payload, big);
  EXPECT_EQ(read_frame(fds[1], payload, error), ReadStatus::Eof);
  writer.join();
  close(fds[1]);
}

TEST(ControlFrame, TruncatedFrameIsAnError) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string partial = frame("hello world").substr(0, 8);
  ASSERT_EQ(write(fds[0], partial.data(), partial.size()), 8);
  close(fds[0]);
  std::string payload, error;
  EXPECT_EQ(read_frame(fds[1], payload, error), ReadStatus::Error);
  EXPECT_EQ(error, "connection closed in the middle of a frame");
  close(fds[1]);
}

TEST(ControlFrame, OversizedLengthIsRefusedOnRead) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ASSERT_EQ(write(fds[0], "\x7f\xff\xff\xff", 4), 4);
  std::string payload, error;
  EXPECT_EQ(read_frame(fds[1], payload, error), ReadStatus::Error);
  EXPECT_NE(error.find("invalid frame length"), std::string::npos);
  std::string e2;
  EXPECT_FALSE(write_frame(fds[0], "", e2));
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace cairn::init::control
