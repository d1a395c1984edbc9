#include "init/log/log_hub.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <vector>

#include "init/log/byte_ring.h"
#include "init/log/line_splitter.h"
#include "init/log/rotating_file.h"

namespace cairn::init {
namespace {

constexpr const char* kSystemService = "cairn-init";

int64_t realtime_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

int make_dirs(const std::string& path) {
  std::string partial;
  for (size_t pos = 0; pos <= path.size();) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    partial.assign(path, 0, slash);
    pos = slash + 1;
    if (!partial.empty() && ::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) return errno;
  }
  return 0;
}

void write_some(int fd, std::string_view data, uint64_t lines, uint64_t& dropped) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      dropped += lines;  // EAGAIN on a slow console: dropped, never waited for
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

struct LogHub::Impl {
  struct Service {
    explicit Service(const LogSpec& s) : spec(s), ring(s.ring_bytes) {}
    LogSpec spec;
    ByteRing ring;
    LogCounters counters;
    std::unique_ptr<RotatingFile> file;
  };
  struct Pipe {
    Pipe(std::string s, size_t max_line) : service(std::move(s)), splitter(max_line) {}
    std::string service;
    LineSplitter splitter;
  };
  struct FollowerEntry {
    std::string service;
    Follower follower;
  };

  Impl(EventLoop& l, LogHubOptions o) : loop(l), options(std::move(o)) {
    if (!options.wall_clock_ms) options.wall_clock_ms = realtime_ms;
    if (options.max_line_bytes == 0) options.max_line_bytes = 1;
    if (options.read_budget_bytes == 0) options.read_budget_bytes = 4096;
  }

  ~Impl() {
    for (auto& [fd, pipe] : pipes) {
      loop.unwatch(fd);
      ::close(fd);
    }
    services.clear();  // flushes files before the directory fd goes
    if (dir_fd >= 0) ::close(dir_fd);
  }

  Service& service(const std::string& name, const LogSpec* spec = nullptr) {
    auto it = services.find(name);
    if (it == services.end()) {
      it = services.emplace(name, std::make_unique<Service>(spec ? *spec : LogSpec{})).first;
    } else if (spec != nullptr) {
      Service& s = *it->second;
      s.spec = *spec;
      s.ring.set_capacity(spec->ring_bytes);
      if (s.file) s.file->set_limits(spec->max_file_bytes, spec->max_files);
    }
    return *it->second;
  }

  // "2026-01-31T12:00:00.123Z "; the date part is cached per second (formatting per line of
  // a flood would be measurable).
  void timestamp(std::string& out) {
    int64_t ms = options.wall_clock_ms();
    int64_t sec = ms / 1000;
    if (sec != cached_second) {
      time_t t = static_cast<time_t>(sec);
      tm parts;
      gmtime_r(&t, &parts);
      char buf[32];
      strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &parts);
      cached_date = buf;
      cached_second = sec;
    }
    out += cached_date;
    char frac[8] = {'.',
                    static_cast<char>('0' + (ms / 100) % 10),
                    static_cast<char>('0' + (ms / 10) % 10),
                    static_cast<char>('0' + ms % 10),
                    'Z',
                    ' ',
                    0,
                    0};
    out.append(frac, 6);
  }

  // One line of `name`: ring, file (or console batch), followers.
  void store_line(const std::string& name, Service& s, std::string_view text, bool cut,
                  bool to_console) {
    line.clear();
    timestamp(line);
    line.append(text);
    ++s.counters.lines;
    if (cut) ++s.counters.cut_lines;
    line.push_back('\n');
    s.ring.append(line);
    if (dir_fd >= 0) {
      if (!s.file) {
        s.file =
            std::make_unique<RotatingFile>(dir_fd, name, s.spec.max_file_bytes, s.spec.max_files);
      }
      s.file->add_line(line);
    }
    if (to_console && options.console_fd >= 0) {
      if (options.console_is_kmsg) {
        // One write per kmsg record.
        std::string record = "<6>" + name + ": ";
        record.append(text);
        uint64_t dropped = 0;
        write_some(options.console_fd, record, 1, dropped);
        s.counters.dropped_console += dropped;
      } else {
        console_batch += name;
        console_batch += ": ";
        console_batch.append(text);
        console_batch.push_back('\n');
        ++console_lines;
      }
    }
    line.pop_back();
    notify(name, line);
  }

  void notify(const std::string& name, const std::string& text) {
    // Collect first: a follower may unfollow itself or others while being called.
    std::vector<FollowerId> ids;
    for (const auto& [id, f] : followers) {
      if (f.service == name) ids.push_back(id);
    }
    for (FollowerId id : ids) {
      auto it = followers.find(id);
      if (it != followers.end()) {
        Follower copy = it->second.follower;  // survives its own unfollow
        copy(text);
      }
    }
  }

  void finish_batch(Service& s) {
    if (s.file) {
      s.file->flush();
      s.counters.dropped_file = s.file->dropped();
      s.counters.rotations = s.file->rotations();
    }
    if (!console_batch.empty()) {
      write_some(options.console_fd, console_batch, console_lines, s.counters.dropped_console);
      console_batch.clear();
      console_lines = 0;
    }
  }

  void on_readable(int fd) noexcept {
    auto pit = pipes.find(fd);
    if (pit == pipes.end()) return;
    Pipe& pipe = *pit->second;
    Service& s = service(pipe.service);
    bool console = dir_fd < 0;
    auto emit = [&](std::string_view text, bool cut) {
      store_line(pipe.service, s, text, cut, console);
    };
    char buf[16 << 10];
    size_t budget = options.read_budget_bytes;
    bool eof = false;
    while (budget > 0) {
      ssize_t n = ::read(fd, buf, std::min(sizeof buf, budget));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        eof = errno != EAGAIN;
        break;
      }
      if (n == 0) {
        eof = true;
        break;
      }
      s.counters.bytes += static_cast<uint64_t>(n);
      budget -= static_cast<size_t>(n);
      pipe.splitter.feed(std::string_view(buf, static_cast<size_t>(n)), emit);
    }
    if (eof) pipe.splitter.flush(emit);
    finish_batch(s);
    if (eof) {
      loop.unwatch(fd);
      ::close(fd);
      pipes.erase(pit);
    }
  }

  EventLoop& loop;
  LogHubOptions options;
  std::map<std::string, std::unique_ptr<Service>> services;
  std::map<int, std::unique_ptr<Pipe>> pipes;
  std::map<FollowerId, FollowerEntry> followers;
  FollowerId next_follower = 1;
  int dir_fd = -1;
  std::string line;  // scratch
  std::string console_batch;
  uint64_t console_lines = 0;
  int64_t cached_second = -1;
  std::string cached_date;
};

LogHub::LogHub(EventLoop& loop, LogHubOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(options))) {}

LogHub::~LogHub() = default;

int LogHub::open_service_pipe(const std::string& service, const LogSpec& spec) noexcept {
  impl_->service(service, &spec);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  int flags = ::fcntl(fds[0], F_GETFL);
  if (flags < 0 || ::fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) != 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return -1;
  }
  Impl* impl = impl_.get();
  int read_fd = fds[0];
  impl->pipes.emplace(read_fd, std::make_unique<Impl::Pipe>(service, impl->options.max_line_bytes));
  if (!impl->loop.watch(read_fd, EPOLLIN,
                        [impl, read_fd](uint32_t) { impl->on_readable(read_fd); })) {
    impl->pipes.erase(read_fd);
    ::close(fds[0]);
    ::close(fds[1]);
    return -1;
  }
  return fds[1];
}

bool LogHub::set_log_dir(const std::string& dir) noexcept {
  if (make_dirs(dir) != 0) return false;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  // An existing directory on a still read-only /var opens fine: check it can take files.
  if (::faccessat(fd, ".", W_OK, AT_EACCESS) != 0) {
    ::close(fd);
    return false;
  }
  for (auto& [name, s] : impl_->services) s->file.reset();  // flushes into the old dir
  if (impl_->dir_fd >= 0) ::close(impl_->dir_fd);
  impl_->dir_fd = fd;
  // What was logged before the directory existed (still in the rings) starts each file, so
  // the early boot is not missing from /var/log/cairn.
  for (auto& [name, s] : impl_->services) {
    std::string early = s->ring.tail(s->ring.size());
    if (early.empty()) continue;
    s->file = std::make_unique<RotatingFile>(fd, name, s->spec.max_file_bytes, s->spec.max_files);
    size_t pos = 0;
    while (pos < early.size()) {
      size_t nl = early.find('\n', pos);
      if (nl == std::string::npos) break;
      s->file->add_line(std::string_view(early).substr(pos, nl + 1 - pos));
      pos = nl + 1;
    }
    impl_->finish_batch(*s);
  }
  return true;
}

void LogHub::close_log_dir() noexcept {
  for (auto& [name, s] : impl_->services) s->file.reset();  // flushes, closes
  if (impl_->dir_fd >= 0) ::close(impl_->dir_fd);
  impl_->dir_fd = -1;
}

void LogHub::system(const std::string& line) noexcept {
  Impl::Service& s = impl_->service(kSystemService);
  size_t pos = 0;
  // A multi-line message becomes several lines; each is also on the console.
  while (pos <= line.size()) {
    size_t nl = line.find('\n', pos);
    if (nl == std::string::npos) nl = line.size();
    if (nl > pos || line.empty()) {
      std::string_view text = std::string_view(line).substr(pos, nl - pos);
      if (text.size() > impl_->options.max_line_bytes) {
        text = text.substr(0, impl_->options.max_line_bytes);
      }
      impl_->store_line(kSystemService, s, text, false, true);
    }
    if (line.empty()) break;
    pos = nl + 1;
  }
  impl_->finish_batch(s);
}

std::string LogHub::tail(const std::string& service, size_t max_bytes) const {
  auto it = impl_->services.find(service);
  if (it == impl_->services.end()) return {};
  return it->second->ring.tail(max_bytes);
}

LogHub::FollowerId LogHub::follow(const std::string& service, Follower follower) {
  FollowerId id = impl_->next_follower++;
  impl_->followers.emplace(id, Impl::FollowerEntry{service, std::move(follower)});
  return id;
}

void LogHub::unfollow(FollowerId id) noexcept {
  impl_->followers.erase(id);
}

LogCounters LogHub::counters(const std::string& service) const noexcept {
  auto it = impl_->services.find(service);
  return it == impl_->services.end() ? LogCounters{} : it->second->counters;
}

size_t LogHub::open_pipes() const noexcept {
  return impl_->pipes.size();
}

}  // namespace cairn::init
