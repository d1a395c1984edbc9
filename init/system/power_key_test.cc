#include "init/system/power_key.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

namespace cairn::init::system {
namespace {

input_event key(uint16_t type, uint16_t code, int32_t value) {
  input_event e{};
  e.type = type;
  e.code = code;
  e.value = value;
  return e;
}

TEST(PowerKey, OnlyAKeyDownOfKeyPowerIsAPress) {
  EXPECT_TRUE(is_power_key_press(key(EV_KEY, KEY_POWER, 1)));
  EXPECT_FALSE(is_power_key_press(key(EV_KEY, KEY_POWER, 0)));  // release
  EXPECT_FALSE(is_power_key_press(key(EV_KEY, KEY_POWER, 2)));  // auto-repeat
  EXPECT_FALSE(is_power_key_press(key(EV_KEY, KEY_SLEEP, 1)));
  EXPECT_FALSE(is_power_key_press(key(EV_SYN, SYN_REPORT, 0)));
  EXPECT_FALSE(is_power_key_press(key(EV_MSC, KEY_POWER, 1)));
}

// The loop path with a pipe standing in for /dev/input/eventN (same record stream).
TEST(PowerKey, WatcherTurnsPressesIntoCallbacksAndDropsClosedDevices) {
  EventLoop loop;
  int presses = 0;
  PowerKeyWatcher watcher(loop, [&] { ++presses; });
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  EXPECT_FALSE(device_has_power_key(fds[0]));  // a pipe answers no evdev ioctl
  ASSERT_TRUE(watcher.add_fd(fds[0]));
  EXPECT_EQ(watcher.device_count(), 1u);
  input_event events[] = {key(EV_KEY, KEY_POWER, 1),  key(EV_SYN, SYN_REPORT, 0),
                          key(EV_KEY, KEY_POWER, 2),  key(EV_KEY, KEY_POWER, 0),
                          key(EV_SYN, SYN_REPORT, 0), key(EV_KEY, KEY_A, 1),
                          key(EV_KEY, KEY_POWER, 1)};
  ASSERT_EQ(write(fds[1], events, sizeof events), static_cast<ssize_t>(sizeof events));
  for (int i = 0; i < 20 && presses < 2; ++i) loop.run_once(std::chrono::milliseconds(50));
  EXPECT_EQ(presses, 2);
  close(fds[1]);
  for (int i = 0; i < 20 && watcher.device_count() > 0; ++i) {
    loop.run_once(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(watcher.device_count(), 0u);
}

TEST(PowerKey, OpenDevicesSkipsWhatIsNotAnEvdevPowerKey) {
  char dir[] = "/tmp/cairn-input-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/event0";
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  EventLoop loop;
  PowerKeyWatcher watcher(loop, [] {});
  EXPECT_EQ(watcher.open_devices(dir), 0u);  // a regular file has no EV_KEY bitmap
  EXPECT_EQ(watcher.open_devices("/nonexistent"), 0u);
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace cairn::init::system
