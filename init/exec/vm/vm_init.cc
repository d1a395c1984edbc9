// PID 1 of a throw-away QEMU guest that runs the cgroup integration tests on a kernel whose
// cgroup2 has every controller (the development host may be hybrid v1/v2). Mounts the API
// file systems and cgroup2, enables cpu/memory/pids/io for children, runs the test binary,
// prints "CAIRN-VM-RESULT <wait status>" and powers off.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <initializer_list>

int main() {
  mount("proc", "/proc", "proc", 0, nullptr);
  mount("sysfs", "/sys", "sysfs", 0, nullptr);
  mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr);
  mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, nullptr);
  mount("tmpfs", "/tmp", "tmpfs", 0, nullptr);
  int fd = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
  for (const char* controller : {"+cpu", "+memory", "+pids", "+io"}) {
    if (write(fd, controller, strlen(controller)) < 0) perror(controller);
  }
  close(fd);
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/test", "test", "--gtest_color=no", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = -1;
  while (waitpid(pid, &status, 0) != pid) {
  }
  std::printf("CAIRN-VM-RESULT %d\n", status);
  std::fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}
