#include "init/system/power_key.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

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

// A power key that appears after boot: /dev/input does not even exist when the watch starts;
// it is created, then event nodes appear in it. The probe (the seam to the device nodes)
// hands back pipes for "power keys" and -1 for anything else.
TEST(PowerKey, DevicesCreatedLaterArePickedUp) {
  char parent[] = "/tmp/cairn-dev-XXXXXX";
  ASSERT_NE(mkdtemp(parent), nullptr);
  std::string input = std::string(parent) + "/input";
  std::vector<std::string> probed;
  std::map<std::string, int> writers;  // path -> write end of its pipe
  auto probe = [&](const std::string& path) {
    probed.push_back(path);
    if (path.size() >= 6 && path.substr(path.size() - 6) == "event9") return -1;  // no KEY_POWER
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    writers[path] = fds[1];
    return fds[0];
  };
  auto touch = [](const std::string& path) {
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    return fd >= 0;
  };
  EventLoop loop;
  int presses = 0;
  PowerKeyWatcher watcher(
      loop, [&] { ++presses; }, probe);
  EXPECT_EQ(watcher.open_devices(input), 0u);
  ASSERT_TRUE(watcher.watch_for_new_devices(input));
  auto pump = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 100 && !done(); ++i) loop.run_once(std::chrono::milliseconds(20));
  };

  // The directory and its first node arrive together (before the watch on it exists).
  ASSERT_EQ(mkdir(input.c_str(), 0755), 0);
  ASSERT_TRUE(touch(input + "/event1"));
  pump([&] { return watcher.device_count() == 1; });
  EXPECT_EQ(watcher.device_count(), 1u);

  ASSERT_TRUE(touch(input + "/event9"));  // not a power key
  ASSERT_TRUE(touch(input + "/mouse0"));  // not an event node: never probed
  ASSERT_TRUE(touch(input + "/event4"));
  pump([&] { return watcher.device_count() == 2; });
  EXPECT_EQ(watcher.device_count(), 2u);
  EXPECT_EQ(std::count(probed.begin(), probed.end(), input + "/mouse0"), 0);
  EXPECT_EQ(std::count(probed.begin(), probed.end(), input + "/event9"), 1);

  // Seen again (attribute change, a rescan): never watched twice.
  ASSERT_EQ(chmod((input + "/event1").c_str(), 0640), 0);
  for (int i = 0; i < 5; ++i) loop.run_once(std::chrono::milliseconds(20));
  EXPECT_EQ(watcher.open_devices(input), 2u);
  EXPECT_EQ(std::count(probed.begin(), probed.end(), input + "/event1"), 1);

  // The late device's button works.
  input_event press = key(EV_KEY, KEY_POWER, 1);
  ASSERT_EQ(write(writers[input + "/event4"], &press, sizeof press),
            static_cast<ssize_t>(sizeof press));
  pump([&] { return presses == 1; });
  EXPECT_EQ(presses, 1);

  for (auto& [path, fd] : writers) close(fd);
  for (const char* name : {"event1", "event4", "event9", "mouse0"}) {
    unlink((input + "/" + name).c_str());
  }
  rmdir(input.c_str());
  rmdir(parent);
}

}  // namespace
}  // namespace cairn::init::system
