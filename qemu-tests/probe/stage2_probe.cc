// A stand-in stage 2 for the stage 1 QEMU tests: installed as /usr/sbin/cairn-init on a test
// root file system, it checks what stage 1 promised (docs/stage1.md) from inside the guest,
// prints one "probe: NAME=VALUE" line per fact on the console, and powers the VM off. The
// tests on the host assert on those lines. (Full images boot the real cairn-init instead.)
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

void say(const std::string& key, const std::string& value) {
  std::string line = "probe: " + key + "=" + value + "\n";
  (void)!::write(1, line.data(), line.size());
}

std::string read_file(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// "ok" or the errno name of the failure.
std::string try_write(const char* path, const std::string& content) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return strerrorname_np(errno);
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  return ok ? "ok" : strerrorname_np(errno);
}

// Reads every regular file under `dir` on the same file system; counts read errors (dm-verity
// turns a corrupted block into EIO).
void read_everything(const std::string& dir, dev_t dev, long& files, long& errors) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    ++errors;
    return;
  }
  while (dirent* e = ::readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    std::string path = (dir == "/" ? "" : dir) + "/" + e->d_name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      ++errors;
      continue;
    }
    if (st.st_dev != dev) continue;
    if (S_ISDIR(st.st_mode)) {
      read_everything(path, dev, files, errors);
    } else if (S_ISREG(st.st_mode)) {
      ++files;
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        ++errors;
        continue;
      }
      char buf[65536];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) {
      }
      if (n < 0) {
        ++errors;
        say("read_error", path + ":" + strerrorname_np(errno));
      }
      ::close(fd);
    }
  }
  ::closedir(d);
}

std::string mount_line(const std::string& target) {
  std::string mounts = read_file("/proc/self/mounts");
  size_t pos = 0;
  std::string found = "none";
  while (pos < mounts.size()) {
    size_t end = mounts.find('\n', pos);
    std::string line = mounts.substr(pos, end - pos);
    pos = end == std::string::npos ? mounts.size() : end + 1;
    size_t a = line.find(' ');
    size_t b = line.find(' ', a + 1);
    if (a != std::string::npos && line.substr(a + 1, b - a - 1) == target) {
      size_t c = line.find(' ', b + 1);
      size_t d = line.find(' ', c + 1);
      found = line.substr(0, a) + "," + line.substr(b + 1, c - b - 1) + "," +
              line.substr(c + 1, d - c - 1);  // source,fstype,options
    }
  }
  return found;
}

}  // namespace

int main() {
  say("pid", std::to_string(::getpid()));
  say("initramfs_gone", ::access("/etc/initrd-release", F_OK) != 0 ? "yes" : "no");
  say("root_mount", mount_line("/"));
  say("var_mount", mount_line("/var"));
  say("etc_mount", mount_line("/etc"));
  say("boot_mount", mount_line("/boot"));
  say("root_write", try_write("/usr/probe-write", "x"));
  say("etc_write", try_write("/etc/probe-etc", "x"));
  say("image_var_file", read_file("/var/lib/image-skeleton") == "from the image\n" ? "yes" : "no");
  // Persistence across reboots: a counter on /var.
  std::string count = read_file("/var/probe-boots");
  int boots = count.empty() ? 0 : std::atoi(count.c_str());
  say("previous_boots", std::to_string(boots));
  say("var_write", try_write("/var/probe-boots", std::to_string(boots + 1) + "\n"));
  struct statvfs v {};
  if (::statvfs("/var", &v) == 0) {
    say("var_size_mib", std::to_string((uint64_t(v.f_blocks) * v.f_frsize) >> 20));
  }
  struct stat root {};
  ::stat("/", &root);
  long files = 0, errors = 0;
  read_everything("/", root.st_dev, files, errors);
  say("root_files_read", std::to_string(files));
  say("root_read_errors", std::to_string(errors));
  say("done", "1");
  ::sync();
  ::reboot(RB_POWER_OFF);
  return 0;
}
