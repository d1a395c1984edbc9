#include "init/stage1/system_steps.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "init/stage1/partition_grow.h"
#include "init/stage1/partition_table.h"
#include "init/stage1/verity.h"

#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, __u64)
#endif

namespace cairn::init::stage1 {
namespace {

std::string sys_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// mkdir -p; existing directories are fine.
bool make_dirs(const std::string& path, mode_t mode) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string part = path.substr(0, slash);
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) return false;
    if (slash == std::string::npos) return true;
  }
}

// Copies `src` into `dst` recursively, keeping modes, owners and symlinks; entries that
// already exist in `dst` are kept (a merge, never an overwrite).
std::string copy_tree(const std::string& src, const std::string& dst) {
  DIR* dir = ::opendir(src.c_str());
  if (!dir) return errno == ENOENT ? "" : sys_error("opendir " + src);
  std::string error;
  while (dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string from = src + "/" + name, to = dst + "/" + name;
    struct stat st {};
    if (::lstat(from.c_str(), &st) != 0) {
      error = sys_error("lstat " + from);
      break;
    }
    struct stat existing {};
    const bool exists = ::lstat(to.c_str(), &existing) == 0;
    if (S_ISDIR(st.st_mode)) {
      if (!exists && ::mkdir(to.c_str(), 0700) != 0) {
        error = sys_error("mkdir " + to);
        break;
      }
      error = copy_tree(from, to);
      if (!error.empty()) break;
      if (!exists) {
        if (::lchown(to.c_str(), st.st_uid, st.st_gid) != 0 ||
            ::chmod(to.c_str(), st.st_mode & 07777) != 0) {
          error = sys_error("chown/chmod " + to);
          break;
        }
      }
      continue;
    }
    if (exists) continue;
    if (S_ISREG(st.st_mode)) {
      Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
      Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (in.get() < 0 || out.get() < 0) {
        error = sys_error("copy " + from);
        break;
      }
      char buf[65536];
      ssize_t n;
      while ((n = ::read(in.get(), buf, sizeof buf)) > 0) {
        if (!write_all(out.get(), buf, static_cast<size_t>(n))) {
          n = -1;
          break;
        }
      }
      if (n < 0 || ::fchown(out.get(), st.st_uid, st.st_gid) != 0 ||
          ::fchmod(out.get(), st.st_mode & 07777) != 0) {
        error = sys_error("copy " + from);
        break;
      }
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(from.c_str(), target, sizeof target - 1);
      if (n < 0) {
        error = sys_error("readlink " + from);
        break;
      }
      target[n] = '\0';
      if (::symlink(target, to.c_str()) != 0 || ::lchown(to.c_str(), st.st_uid, st.st_gid) != 0) {
        error = sys_error("symlink " + to);
        break;
      }
    } else if (::mknod(to.c_str(), st.st_mode, st.st_rdev) != 0) {
      error = sys_error("mknod " + to);
      break;
    }
  }
  ::closedir(dir);
  return error;
}

// Removes everything on the initramfs (the device of "/"), never crossing into a mount.
void remove_initramfs_contents(int dirfd, dev_t root_dev) {
  DIR* dir = ::fdopendir(dirfd);
  if (!dir) {
    ::close(dirfd);
    return;
  }
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    struct stat st {};
    if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (st.st_dev != root_dev) continue;  // a mount point (e.g. /sysroot): leave it alone
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) remove_initramfs_contents(sub, root_dev);
      ::unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
    } else {
      ::unlinkat(dirfd, e->d_name, 0);
    }
  }
  ::closedir(dir);
}

}  // namespace

std::string mount_api_filesystems() noexcept {
  try {
    struct Mount {
      const char *source, *target, *type;
      unsigned long flags;
      const char* data;
    };
    const Mount mounts[] = {
        {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
        {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
        {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
        {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
    };
    for (const auto& m : mounts) {
      ::mkdir(m.target, 0755);
      if (::mount(m.source, m.target, m.type, m.flags, m.data) != 0 && errno != EBUSY) {
        return sys_error(std::string("mount ") + m.type + " on " + m.target);
      }
    }
    return "";
  } catch (...) {
    return "out of memory";
  }
}

std::string setup_verity(const BlockDevice& device, const std::string& roothash,
                         uint64_t hash_offset, const std::string& name,
                         std::string* options) noexcept {
  try {
    const std::string path = "/dev/" + device.devname;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return sys_error("open " + path);
    std::string sb_bytes(512, '\0');
    if (::pread(fd.get(), sb_bytes.data(), 512, static_cast<off_t>(hash_offset)) != 512) {
      return sys_error("read the verity superblock of " + path + " at " +
                       std::to_string(hash_offset));
    }
    std::string error;
    auto sb = parse_verity_superblock(sb_bytes, &error);
    if (!sb) return path + ": " + error;
    auto target = verity_target(*sb, device.dev(), roothash, hash_offset, &error);
    if (!target) return path + ": " + error;

    Fd control(::open("/dev/mapper/control", O_RDWR | O_CLOEXEC));
    if (control.get() < 0) {
      return sys_error("open /dev/mapper/control (is dm-mod among the boot modules?)");
    }
    std::string create = dm_ioctl_buffer(name, 0);
    if (::ioctl(control.get(), DM_DEV_CREATE, create.data()) != 0) {
      return sys_error("device-mapper create " + name);
    }
    // With kVerityFastOptions first; a kernel that does not know them (before 6.0) refuses
    // the table with EINVAL, and the plain table is loaded instead.
    std::string table = dm_table_load_buffer(name, "verity", target->length_sectors,
                                             target->params + " " + kVerityFastOptions, true);
    bool loaded = ::ioctl(control.get(), DM_TABLE_LOAD, table.data()) == 0;
    if (options) *options = loaded ? kVerityFastOptions : "";
    if (!loaded && errno == EINVAL) {
      table = dm_table_load_buffer(name, "verity", target->length_sectors, target->params, true);
      loaded = ::ioctl(control.get(), DM_TABLE_LOAD, table.data()) == 0;
    }
    if (!loaded) {
      std::string why = sys_error("device-mapper load verity table '" + target->params +
                                  "' (is dm-verity among the boot modules?)");
      std::string remove = dm_ioctl_buffer(name, 0);
      ::ioctl(control.get(), DM_DEV_REMOVE, remove.data());
      return why;
    }
    std::string resume = dm_ioctl_buffer(name, 0);
    if (::ioctl(control.get(), DM_DEV_SUSPEND, resume.data()) != 0) {
      return sys_error("device-mapper resume " + name);
    }
    const auto* reply = reinterpret_cast<const struct dm_ioctl*>(resume.data());
    const dev_t dev = static_cast<dev_t>(reply->dev);
    ::mkdir("/dev/mapper", 0755);
    const std::string node = "/dev/mapper/" + name;
    if (::mknod(node.c_str(), S_IFBLK | 0600, makedev(major(dev), minor(dev))) != 0 &&
        errno != EEXIST) {
      return sys_error("mknod " + node);
    }
    return "";
  } catch (...) {
    return "out of memory";
  }
}

std::string grow_partition(const BlockDevice& device, uint64_t* grown_bytes) noexcept {
  try {
    *grown_bytes = 0;
    if (device.disk.empty() || device.partn <= 0) return "";
    const std::string path = "/dev/" + device.disk;
    Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) return sys_error("open " + path);
    uint64_t bytes = 0;
    int sector = 512;
    if (::ioctl(fd.get(), BLKGETSIZE64, &bytes) != 0) return sys_error("BLKGETSIZE64 " + path);
    if (::ioctl(fd.get(), BLKSSZGET, &sector) != 0) return sys_error("BLKSSZGET " + path);
    const int raw = fd.get();
    ReadAt read = [raw](uint64_t offset, size_t size) -> std::optional<std::string> {
      if (size > (64u << 20)) return std::nullopt;
      std::string buf(size, '\0');
      if (::pread(raw, buf.data(), size, static_cast<off_t>(offset)) !=
          static_cast<ssize_t>(size)) {
        return std::nullopt;
      }
      return buf;
    };
    std::string error;
    auto table = read_partition_table(read, static_cast<uint32_t>(sector), &error);
    if (!table) return path + ": " + error;
    auto plan = plan_grow(*table, device.partn, bytes / static_cast<uint64_t>(sector), &error);
    if (!plan) return error.empty() ? "" : path + ": " + error;
    for (const auto& w : plan->writes) {
      if (::pwrite(fd.get(), w.bytes.data(), w.bytes.size(), static_cast<off_t>(w.offset)) !=
          static_cast<ssize_t>(w.bytes.size())) {
        return sys_error("write the partition table of " + path);
      }
    }
    if (::fsync(fd.get()) != 0) return sys_error("fsync " + path);
    struct blkpg_partition part {};
    part.start = static_cast<long long>(plan->first_lba * static_cast<uint64_t>(sector));
    part.length = static_cast<long long>((plan->new_last_lba - plan->first_lba + 1) *
                                         static_cast<uint64_t>(sector));
    part.pno = device.partn;
    struct blkpg_ioctl_arg arg {};
    arg.op = BLKPG_RESIZE_PARTITION;
    arg.datalen = sizeof part;
    arg.data = &part;
    if (::ioctl(fd.get(), BLKPG, &arg) != 0) return sys_error("BLKPG resize " + device.name);
    *grown_bytes = static_cast<uint64_t>(part.length);
    return "";
  } catch (...) {
    return "out of memory";
  }
}

std::string grow_ext4(const std::string& mountpoint, uint64_t partition_bytes) noexcept {
  try {
    Fd fd(::open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return sys_error("open " + mountpoint);
    struct statvfs st {};
    if (::fstatvfs(fd.get(), &st) != 0 || st.f_frsize == 0)
      return sys_error("statvfs " + mountpoint);
    uint64_t blocks = partition_bytes / st.f_frsize;
    if (::ioctl(fd.get(), EXT4_IOC_RESIZE_FS, &blocks) != 0) {
      return sys_error("EXT4_IOC_RESIZE_FS " + mountpoint);
    }
    return "";
  } catch (...) {
    return "out of memory";
  }
}

std::string prepare_writable(const BlockDevice* data, const std::string& sysroot,
                             const std::string& staging, bool grow,
                             std::vector<std::string>* notes) noexcept {
  try {
    if (!make_dirs(staging, 0755)) return sys_error("mkdir " + staging);
    uint64_t grown = 0;
    if (data) {
      if (grow) {
        std::string error = grow_partition(*data, &grown);
        if (!error.empty()) notes->push_back("data partition not grown: " + error);
      }
      const std::string dev = "/dev/" + data->devname;
      if (::mount(dev.c_str(), staging.c_str(), "ext4", MS_NOATIME, nullptr) != 0) {
        return sys_error("mount data partition " + dev + " (ext4)");
      }
      if (grown) {
        std::string error = grow_ext4(staging, grown);
        if (error.empty()) {
          notes->push_back("data partition grown to " + std::to_string(grown >> 20) + " MiB");
        } else {
          notes->push_back("data file system not grown: " + error);
        }
      }
    } else if (::mount("tmpfs", staging.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
      return sys_error("mount tmpfs for /var");
    }
    const std::string marker = staging + "/lib/cairn/var-populated";
    if (::access(marker.c_str(), F_OK) != 0) {
      std::string error = copy_tree(sysroot + "/var", staging);
      if (!error.empty()) return "populate /var from the image: " + error;
      if (!make_dirs(staging + "/lib/cairn", 0755)) return sys_error("mkdir /var/lib/cairn");
      Fd m(::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (m.get() < 0) return sys_error("create " + marker);
      ::fsync(m.get());
      notes->push_back(std::string("first boot: /var populated from the image") +
                       (data ? "" : " (tmpfs: changes are lost at reboot)"));
    }
    const std::string upper = staging + "/lib/cairn/etc-overlay/upper";
    const std::string work = staging + "/lib/cairn/etc-overlay/work";
    if (!make_dirs(upper, 0755) || !make_dirs(work, 0755)) return sys_error("mkdir " + upper);
    const std::string var = sysroot + "/var";
    if (::mount(staging.c_str(), var.c_str(), nullptr, MS_MOVE, nullptr) != 0) {
      return sys_error("move the data mount to " + var);
    }
    const std::string etc = sysroot + "/etc";
    const std::string options = "lowerdir=" + etc + ",upperdir=" + var +
                                "/lib/cairn/etc-overlay/upper,workdir=" + var +
                                "/lib/cairn/etc-overlay/work";
    if (::mount("overlay", etc.c_str(), "overlay", 0, options.c_str()) != 0) {
      return sys_error("mount overlay on " + etc + " (is overlay among the boot modules?)");
    }
    return "";
  } catch (...) {
    return "out of memory";
  }
}

std::string switch_root_and_exec(const std::string& sysroot, const std::string& init) noexcept {
  try {
    for (const char* api : {"/dev", "/proc", "/sys", "/run"}) {
      const std::string target = sysroot + api;
      if (::mount(api, target.c_str(), nullptr, MS_MOVE, nullptr) != 0) {
        return sys_error(std::string("move ") + api + " to " + target);
      }
    }
    const std::string stage2 = sysroot + init;
    if (::access(stage2.c_str(), X_OK) != 0) return sys_error("stage 2 " + init + " on the root");
    if (::chdir(sysroot.c_str()) != 0) return sys_error("chdir " + sysroot);
    // Free the initramfs memory, but only if "/" really is one (never wipe a real disk).
    struct statfs fs {};
    struct stat root {};
    if (::statfs("/", &fs) == 0 && ::stat("/", &root) == 0 &&
        (fs.f_type == RAMFS_MAGIC || fs.f_type == TMPFS_MAGIC)) {
      int dirfd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dirfd >= 0) remove_initramfs_contents(dirfd, root.st_dev);
    }
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) return sys_error("move the root to /");
    if (::chroot(".") != 0) return sys_error("chroot");
    if (::chdir("/") != 0) return sys_error("chdir /");
    char* argv[] = {const_cast<char*>(init.c_str()), nullptr};
    ::execv(init.c_str(), argv);
    return sys_error("exec " + init);
  } catch (...) {
    return "out of memory";
  }
}

std::string write_boot_error(const BlockDevice& boot, const std::string& text) noexcept {
  try {
    const std::string dir = "/run/cairn/boot-error";
    if (!make_dirs(dir, 0700)) return sys_error("mkdir " + dir);
    const std::string dev = "/dev/" + boot.devname;
    if (::mount(dev.c_str(), dir.c_str(), "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      return sys_error("mount " + dev + " (vfat)");
    }
    const std::string file = dir + "/cairn-boot-error.txt";
    std::string error;
    {
      Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (fd.get() < 0 || !write_all(fd.get(), text.data(), text.size()) ||
          ::fsync(fd.get()) != 0) {
        error = sys_error("write " + file);
      }
    }
    ::umount(dir.c_str());
    return error;
  } catch (...) {
    return "out of memory";
  }
}

}  // namespace cairn::init::stage1
