#include "init/tests/harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace cairn::init::testing {

namespace {

std::atomic<int> g_counter{0};

bool write_text(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

int free_tcp_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

void remove_tree(const std::string& path) {
  std::string cmd = "rm -rf '" + path + "'";
  if (std::system(cmd.c_str()) != 0) {
  }
}

// Kills everything in a cgroup subtree and removes it, children first.
void destroy_cgroup(const std::string& path, int depth = 0) {
  if (path.empty() || depth > 8) return;
  if (depth == 0) {
    write_text(path + "/cgroup.kill", "1");
    for (int i = 0; i < 200; ++i) {
      if (read_text(path + "/cgroup.events").find("populated 0") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  if (DIR* d = opendir(path.c_str())) {
    std::vector<std::string> children;
    while (dirent* e = readdir(d)) {
      if (e->d_type == DT_DIR && e->d_name[0] != '.') children.push_back(e->d_name);
    }
    closedir(d);
    for (const auto& c : children) destroy_cgroup(path + "/" + c, depth + 1);
  }
  for (int i = 0; i < 100 && rmdir(path.c_str()) != 0 && errno == EBUSY; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    return mount_point;
  }
  return "";
}

bool controller_available(const std::string& controller) {
  std::string mount = cgroup2_mount();
  if (mount.empty()) return false;
  std::istringstream list(read_text(mount + "/cgroup.subtree_control"));
  std::string c;
  while (list >> c) {
    if (c == controller) return true;
  }
  return false;
}

InitUnderTest::InitUnderTest(const std::string& fixture_set, Mode mode)
    : fixture_set_(fixture_set), mode_(mode) {
  char tmpl[] = "/tmp/cairn-it-XXXXXX";
  if (mkdtemp(tmpl)) dir_ = tmpl;
  chmod(dir_.c_str(), 0755);
  std::string mount = cgroup2_mount();
  if (!mount.empty()) {
    cgroup_ = mount + "/cairn-it-" + std::to_string(getpid()) + "-" + std::to_string(g_counter++);
  }
  port_ = free_tcp_port();
}

InitUnderTest::~InitUnderTest() {
  if (running()) {
    if (init_pid_ > 0) kill(init_pid_, SIGKILL);
    if (launcher_ > 0) kill(launcher_, SIGKILL);
  }
  if (launcher_ > 0 && !exited_) waitpid(launcher_, nullptr, 0);
  destroy_cgroup(cgroup_);
  if (!::testing::Test::HasFailure() || std::getenv("CAIRN_KEEP_TEST_DIRS") == nullptr) {
    remove_tree(dir_);
  }
}

bool InitUnderTest::start(const std::vector<std::string>& extra_args) {
  EXPECT_FALSE(dir_.empty());
  EXPECT_FALSE(cgroup_.empty()) << "no cgroup2 hierarchy";
  if (dir_.empty() || cgroup_.empty()) return false;
  std::string services = dir_ + "/services";
  mkdir(services.c_str(), 0755);
  std::string source = std::string(CAIRN_FIXTURES) + "/" + fixture_set_;
  DIR* d = opendir(source.c_str());
  EXPECT_NE(d, nullptr) << source;
  if (!d) return false;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 5 || name.substr(name.size() - 5) != ".toml") continue;
    std::string text = read_text(source + "/" + name);
    text = replace_all(text, "@SERVICE@", CAIRN_TEST_SERVICE);
    text = replace_all(text, "@DIR@", dir_);
    text = replace_all(text, "@PORT@", std::to_string(port_));
    write_text(services + "/" + name, text);
  }
  closedir(d);

  EXPECT_EQ(mkdir(cgroup_.c_str(), 0755), 0) << cgroup_ << ": " << strerror(errno);
  // Development mode: cairn-init sits in a leaf beside the services' tree, so the tree may
  // enable controllers (no internal processes).
  std::string dev_leaf = cgroup_ + "/dev-init";
  if (mode_ == Mode::Dev) mkdir(dev_leaf.c_str(), 0755);

  std::vector<std::string> args;
  if (mode_ == Mode::Pid1) {
    // PID 1 of the new namespace is a shell that joins the private cgroup and execs
    // cairn-init (unshare itself stays in the test's cgroup).
    args = {"/usr/bin/unshare",
            "--pid",
            "--mount",
            "--fork",
            "/bin/sh",
            "-c",
            "echo 0 > \"$0/cgroup.procs\" && exec \"$@\"",
            cgroup_,
            CAIRN_INIT};
  } else {
    args = {CAIRN_INIT, "--cgroup-root", cgroup_};
  }
  for (const std::string& a : {std::string("--services"), services, std::string("--run-dir"),
                               dir_ + "/run", std::string("--log-dir"), dir_ + "/logs",
                               std::string("--control-socket"), dir_ + "/control.sock"}) {
    args.push_back(a);
  }
  for (const std::string& a : extra_args) args.push_back(a);

  std::string console_path = dir_ + "/console";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(console_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dup2(null, 0);
    syscall(SYS_close_range, 3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (mode_ == Mode::Dev) write_text(dev_leaf + "/cgroup.procs", "0");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  launcher_ = pid;
  if (mode_ == Mode::Dev) {
    init_pid_ = pid;
    return true;
  }
  // cairn-init is unshare's only child.
  bool found = wait_for(
      [&] {
        std::string children = read_text("/proc/" + std::to_string(pid) + "/task/" +
                                         std::to_string(pid) + "/children");
        init_pid_ = std::atoi(children.c_str());
        return init_pid_ > 0;
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(found) << "cairn-init did not start; console:\n" << console();
  return found;
}

std::string InitUnderTest::console() const {
  return read_text(dir_ + "/console");
}

std::vector<Event> InitUnderTest::events() const {
  std::vector<Event> out;
  std::istringstream in(read_text(dir_ + "/record"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Event e;
    fields >> e.ms >> e.service;
    std::string rest;
    std::getline(fields, rest);
    // "<what...> <pid>": the pid is the last word.
    size_t last = rest.find_last_of(' ');
    if (last == std::string::npos) continue;
    e.pid = std::atoi(rest.c_str() + last + 1);
    e.what = rest.substr(0, last);
    if (!e.what.empty() && e.what[0] == ' ') e.what.erase(0, 1);
    out.push_back(e);
  }
  return out;
}

std::vector<Event> InitUnderTest::events_of(const std::string& service,
                                            const std::string& what) const {
  std::vector<Event> out;
  for (const Event& e : events()) {
    if (e.service == service && e.what == what) out.push_back(e);
  }
  return out;
}

long long InitUnderTest::first(const std::string& service, const std::string& what) const {
  auto list = events_of(service, what);
  return list.empty() ? -1 : list.front().ms;
}

size_t InitUnderTest::count(const std::string& service, const std::string& what) const {
  return events_of(service, what).size();
}

bool InitUnderTest::wait_for(const std::function<bool()>& condition,
                             std::chrono::milliseconds timeout) const {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

bool InitUnderTest::wait_console(const std::string& needle,
                                 std::chrono::milliseconds timeout) const {
  auto found = [&] { return console().find(needle) != std::string::npos; };
  // A cairn-init that is gone will print nothing more: fail fast instead of at the deadline.
  wait_for([&] { return found() || !running(); }, timeout);
  return found();
}

bool InitUnderTest::wait_event(const std::string& service, const std::string& what, size_t times,
                               std::chrono::milliseconds timeout) const {
  auto done = [&] { return count(service, what) >= times; };
  wait_for([&] { return done() || !running(); }, timeout);
  return done();
}

void InitUnderTest::signal(int signo) const {
  if (init_pid_ > 0) kill(init_pid_, signo);
}

int InitUnderTest::wait_exit(std::chrono::milliseconds timeout) {
  if (launcher_ <= 0) return -1;
  int status = 0;
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    pid_t r = waitpid(launcher_, &status, WNOHANG);
    if (r == launcher_) {
      exited_ = true;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool InitUnderTest::running() const {
  if (launcher_ <= 0 || exited_) return false;
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(launcher_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  return info.si_pid == 0;  // nothing to collect yet: still running
}

std::vector<pid_t> InitUnderTest::service_pids(const std::string& service) const {
  std::vector<pid_t> out;
  std::istringstream list(read_text(cgroup_ + "/cairn/" + service + "/cgroup.procs"));
  pid_t p;
  while (list >> p) out.push_back(p);
  return out;
}

std::vector<pid_t> InitUnderTest::init_children() const {
  std::vector<pid_t> out;
  if (init_pid_ <= 0) return out;
  std::string task = "/proc/" + std::to_string(init_pid_) + "/task/";
  DIR* d = opendir(task.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::istringstream list(read_text(task + e->d_name + "/children"));
    pid_t p;
    while (list >> p) out.push_back(p);
  }
  closedir(d);
  return out;
}

int InitUnderTest::zombie_children() const {
  int zombies = 0;
  for (pid_t p : init_children()) {
    std::string stat = read_text("/proc/" + std::to_string(p) + "/stat");
    size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z') {
      ++zombies;
    }
  }
  return zombies;
}

}  // namespace cairn::init::testing
