#!/usr/bin/env python3
"""PID 1 benchmarks: cairn-init next to Debian's tini and s6-svscan, each run as PID 1 of its
own `unshare --pid --mount --fork` in a private cgroup (like init/tests/harness.cc).

  pid1_bench.py --build BUILD_DIR [--restarts 10000] [--orphans 10000] [--ready 100]
                [--services 50] [--only memory,reap,ready]

Prints markdown tables (docs/benchmarks.md, "cairn-init"). Needs root, cgroup v2, tini and s6.
Every namespace is killed (SIGKILL to its PID 1, then cgroup.kill) and its cgroup and temp
directory removed, also on Ctrl-C or an error. Not a ctest test: a loaded machine changes the
times (memory is far less sensitive).
"""
import argparse
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

TINI = "/usr/bin/tini"
S6_SVSCAN = "/usr/bin/s6-svscan"
S6_SVWAIT = "/usr/bin/s6-svwait"


def mono_ms():
    return time.clock_gettime(time.CLOCK_MONOTONIC) * 1000.0


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.startswith("cgroup2 "):
                return left.split()[4]
    return ""


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def children(pid):
    return [int(p) for p in read(f"/proc/{pid}/task/{pid}/children").split()]


def memory(pid):
    """(VmRSS, RssAnon, Pss) in KiB of one process."""
    fields = {}
    for line in read(f"/proc/{pid}/status").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "VmHWM"):
            fields[key] = int(value.split()[0])
    for line in read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            fields["Pss"] = int(line.split()[1])
    return fields.get("VmRSS", 0), fields.get("RssAnon", 0), fields.get("Pss", 0)


def comm(pid):
    return read(f"/proc/{pid}/comm").strip()


def wait_until(condition, timeout, what, poll=0.01):
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


class Namespace:
    """One PID 1 under test: `unshare --pid --mount --fork` whose PID 1 joins a private cgroup
    and execs `argv`. Console output goes to <dir>/console."""

    def __init__(self, label):
        self.dir = tempfile.mkdtemp(prefix=f"cairn-bench-{label}-")
        os.chmod(self.dir, 0o755)
        mount = cgroup2_mount()
        if not mount:
            raise RuntimeError("no cgroup2 hierarchy")
        self.cgroup = f"{mount}/cairn-bench-{label}-{os.getpid()}"
        self.launcher = None
        self.pid1 = 0

    def start(self, argv):
        os.mkdir(self.cgroup)
        console = open(os.path.join(self.dir, "console"), "ab")
        self.launcher = subprocess.Popen(
            ["/usr/bin/unshare", "--pid", "--mount", "--fork", "/bin/sh", "-c",
             'echo 0 > "$0/cgroup.procs" && exec "$@"', self.cgroup] + argv,
            stdin=subprocess.DEVNULL, stdout=console, stderr=console, close_fds=True)
        console.close()
        pid = self.launcher.pid
        self.pid1 = wait_until(lambda: (children(pid) or [0])[0], 20, "PID 1 of the namespace")
        # PID 1 is the shell until it execs argv[0].
        name = os.path.basename(argv[0])[:15]
        wait_until(lambda: comm(self.pid1) == name, 20, f"{name} as PID 1")
        return self.pid1

    def alive(self):
        return self.launcher is not None and self.launcher.poll() is None

    def console(self):
        return read(os.path.join(self.dir, "console"))

    def close(self):
        if self.launcher is not None:
            if self.launcher.poll() is None and self.pid1 > 0:
                try:
                    os.kill(self.pid1, signal.SIGKILL)  # the kernel kills the whole namespace
                except ProcessLookupError:
                    pass
            try:
                self.launcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait()
        destroy_cgroup(self.cgroup)
        shutil.rmtree(self.dir, ignore_errors=True)


def destroy_cgroup(path):
    if not os.path.isdir(path):
        return
    try:
        write(os.path.join(path, "cgroup.kill"), "1")
    except OSError:
        pass
    try:
        wait_until(lambda: "populated 0" in read(os.path.join(path, "cgroup.events")), 10,
                   "an empty cgroup", poll=0.02)
    except TimeoutError:
        pass
    for root, dirs, _ in os.walk(path, topdown=False):
        for d in dirs:
            rmdir_retry(os.path.join(root, d))
    rmdir_retry(path)


def rmdir_retry(path):
    for _ in range(100):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


# --- cairn-init -------------------------------------------------------------------------------

class Cairn:
    """cairn-init as PID 1 of a namespace, with service files written by the caller."""

    def __init__(self, build, label):
        self.build = build
        self.ns = Namespace(label)
        self.services = os.path.join(self.ns.dir, "services")
        os.mkdir(self.services)
        self.socket = os.path.join(self.ns.dir, "control.sock")

    def add(self, name, text):
        write(os.path.join(self.services, name + ".toml"), text)

    def start(self):
        d = self.ns.dir
        return self.ns.start([
            os.path.join(self.build, "bin", "cairn-init"), "--services", self.services,
            "--run-dir", d + "/run", "--log-dir", d + "/logs", "--control-socket", self.socket])

    def request(self, command, name=None):
        payload = f"request\nversion=1\ncommand={command}\n"
        if name:
            payload += f"name={name}\n"
        data = payload.encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(120)
            s.connect(self.socket)
            s.sendall(struct.pack(">I", len(data)) + data)
            head = recv_exact(s, 4)
            body = recv_exact(s, struct.unpack(">I", head)[0]).decode()
        kind, _, rest = body.partition("\n")
        if kind == "error":
            raise RuntimeError(f"cairn-init: {command} {name or ''}: {rest.strip()}")
        return kind, rest

    def status(self):
        """{name: {field: value}} from the status response."""
        if not os.path.exists(self.socket):
            return {}
        try:
            _, rest = self.request("status")
        except (ConnectionError, FileNotFoundError):
            return {}
        services, current = {}, None
        for line in rest.splitlines():
            if line == "[service]":
                current = {}
            elif current is not None and "=" in line:
                key, _, value = line.partition("=")
                current.setdefault(key, value)
                if key == "name":
                    services[value] = current
        return services

    def all_ready(self, count):
        st = self.status()
        ready = [s for s in st.values() if s.get("state") == "ready"]
        return st if len(ready) >= count else None

    def close(self):
        self.ns.close()


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("control socket closed early")
        out += chunk
    return out


# --- s6 ---------------------------------------------------------------------------------------

class S6:
    """s6-svscan as PID 1 of a namespace, supervising <dir>/scan/<name>/run scripts."""

    def __init__(self, label):
        self.ns = Namespace(label)
        self.scan = os.path.join(self.ns.dir, "scan")
        os.mkdir(self.scan)

    def add(self, name, command, notification_fd=None):
        d = os.path.join(self.scan, name)
        os.mkdir(d)
        write(os.path.join(d, "run"), "#!/bin/sh\nexec " + command + "\n", 0o755)
        if notification_fd is not None:
            write(os.path.join(d, "notification-fd"), f"{notification_fd}\n")
        return d

    def start(self):
        return self.ns.start([S6_SVSCAN, self.scan])

    def supervisors(self):
        return [p for p in children(self.ns.pid1) if comm(p) == "s6-supervise"]

    def close(self):
        self.ns.close()


# --- benchmarks -------------------------------------------------------------------------------

def kib(value):
    return f"{value / 1024:.2f} MiB"


def memory_bench(args):
    """cairn-init RSS with N sleeping services, across operator restarts and a crash loop;
    tini and s6 with the same services for comparison."""
    n = args.services
    rows_restart = []
    peers = []

    # cairn-init, operator restarts (cairnctl restart: SIGTERM, reap, respawn).
    cairn = Cairn(args.build, "mem")
    try:
        for i in range(n):
            cairn.add(f"sleep{i:03d}", 'exec = ["/bin/sleep", "infinity"]\n')
        cairn.start()
        st = wait_until(lambda: cairn.all_ready(n), 60, f"{n} services ready")
        time.sleep(1.0)
        rss, anon, pss = memory(cairn.ns.pid1)
        peers.append(("cairn-init", f"{n} services", rss, anon, pss, 1, rss, anon, pss))
        rows_restart.append(("operator restarts", 0, memory(cairn.ns.pid1)))
        checkpoints = sorted({c for c in (1000, 2000, 5000, args.restarts) if c <= args.restarts})
        done = 0
        started = time.monotonic()
        names = sorted(st)
        while done < args.restarts:
            batch = names[:min(len(names), args.restarts - done)]
            old = {name: st[name].get("pid") for name in batch}
            for name in batch:
                cairn.request("restart", name)

            def restarted():
                cur = cairn.status()
                for name in batch:
                    s = cur.get(name, {})
                    if s.get("state") != "ready" or s.get("pid") == old[name]:
                        return None
                return cur

            st = wait_until(restarted, 60, "a batch of restarts")
            done += len(batch)
            if checkpoints and done >= checkpoints[0]:
                checkpoints.pop(0)
                rows_restart.append(("operator restarts", done, memory(cairn.ns.pid1)))
        rate = done / (time.monotonic() - started)
        if not cairn.ns.alive():
            raise RuntimeError("cairn-init died:\n" + cairn.ns.console())
    finally:
        cairn.close()

    # cairn-init, automatic restarts: services that exit at once, restart always, no delay.
    crash_rate = None
    if args.crash_loop:
        cairn = Cairn(args.build, "crash")
        try:
            for i in range(n):
                cairn.add(f"true{i:03d}", 'exec = ["/bin/true"]\n[restart]\npolicy = "always"\n'
                          f'delay = "0"\nburst = 10000\ninterval = "{args.crash_interval}"\n')
            cairn.start()
            wait_until(lambda: sum(int(s.get("restarts", 0)) for s in cairn.status().values())
                       >= 1, 60, "the first automatic restart")
            rows_restart.append(("crash loop", 0, memory(cairn.ns.pid1)))
            checkpoints = sorted({c for c in (1000, 2000, 5000, args.restarts)
                                  if c <= args.restarts})
            started = time.monotonic()
            total = 0
            while checkpoints:
                total = sum(int(s.get("restarts", 0)) for s in cairn.status().values())
                if total >= checkpoints[0]:
                    checkpoints.pop(0)
                    rows_restart.append(("crash loop", total, memory(cairn.ns.pid1)))
                if time.monotonic() - started > 600:
                    raise TimeoutError("crash loop: too slow")
                time.sleep(0.05)
            crash_rate = total / (time.monotonic() - started)
            if not cairn.ns.alive():
                raise RuntimeError("cairn-init died:\n" + cairn.ns.console())
        finally:
            cairn.close()

    # s6-svscan + one s6-supervise per service.
    s6 = S6("mem")
    try:
        for i in range(n):
            s6.add(f"sleep{i:03d}", "/bin/sleep infinity")
        s6.start()
        wait_until(lambda: len(s6.supervisors()) == n and all(
            any(comm(c) == "sleep" for c in children(p)) for p in s6.supervisors()),
            60, f"{n} s6 services up")
        time.sleep(1.0)
        rss, anon, pss = memory(s6.ns.pid1)
        sup = [memory(p) for p in s6.supervisors()]
        peers.append(("s6-svscan", f"{n} services", rss, anon, pss, 1 + len(sup),
                      rss + sum(m[0] for m in sup), anon + sum(m[1] for m in sup),
                      pss + sum(m[2] for m in sup)))
    finally:
        s6.close()

    # tini: one child only.
    ns = Namespace("tini-mem")
    try:
        ns.start([TINI, "--", "/bin/sleep", "infinity"])
        wait_until(lambda: any(comm(c) == "sleep" for c in children(ns.pid1)), 20, "tini's child")
        time.sleep(1.0)
        rss, anon, pss = memory(ns.pid1)
        peers.append(("tini", f"1 child (cannot supervise {n})", rss, anon, pss, 1, rss, anon, pss))
    finally:
        ns.close()

    print(f"### PID 1 memory with {n} services (`/bin/sleep infinity` each)\n")
    print("| PID 1 | supervising | PID 1 VmRSS | PID 1 RssAnon | PID 1 Pss "
          "| supervisor processes | all supervisors VmRSS | RssAnon | Pss |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, what, rss, anon, pss, procs, trss, tanon, tpss in peers:
        print(f"| {name} | {what} | {kib(rss)} | {kib(anon)} | {kib(pss)} | {procs} "
              f"| {kib(trss)} | {kib(tanon)} | {kib(tpss)} |")
    print("\nVmRSS: resident pages (shared library pages counted in full); RssAnon: private "
          "heap/stack pages; Pss: resident pages with shared ones divided among their users "
          "(the fair sum). s6 needs one s6-supervise process per service; their sum is in the "
          "\"all supervisors\" columns. cairn-init is statically linked (no shared pages), so its Pss equals its RSS except while a just-forked child still shares its pages.\n")

    print(f"### cairn-init RSS across {args.restarts} restarts of {n} services\n")
    print("| restarts driven by | restarts done | VmRSS | RssAnon | Pss |")
    print("|---|---|---|---|---|")
    for how, count, (rss, anon, pss) in rows_restart:
        print(f"| {how} | {count} | {kib(rss)} | {kib(anon)} | {kib(pss)} |")
    for how in dict.fromkeys(r[0] for r in rows_restart):
        marks = [(count, m[0]) for h, count, m in rows_restart if h == how]
        if len(marks) >= 3:
            print(f"\n{how}: VmRSS {marks[1][1] - marks[0][1]:+d} KiB from 0 to {marks[1][0]} "
                  f"restarts (warm-up), {marks[-1][1] - marks[1][1]:+d} KiB from {marks[1][0]} to "
                  f"{marks[-1][0]}.", end="")
    print()
    print(f"\noperator restarts: `restart` requests on the control socket (what `cairnctl restart` "
          f"sends), {n} at a time, each batch waited for until every service is ready again "
          f"under a new pid: stop (SIGTERM), reap, respawn in its cgroup; {rate:.0f} restarts/s.")
    if crash_rate is not None:
        print(f"crash loop: `/bin/true` services with `restart.policy = \"always\"`, "
              f"`delay = \"0\"`, `burst = 10000`, `interval = \"{args.crash_interval}\"` (the start-limit window keeps the restart times of the last interval; `burst = 0` is refused), restarting on their own; sampled as the restart "
              f"count (from `status`) passes each mark; {crash_rate:.0f} restarts/s.")
    print()


def reap_bench(args):
    n = args.orphans
    maker = os.path.join(args.build, "bench", "bench-orphans")
    rows = []

    def wait_result(ns, path):
        text = wait_until(lambda: read(path).strip() or (not ns.alive() and "dead"), 300,
                          "the orphan maker's result", poll=0.05)
        if text == "dead":
            raise RuntimeError("PID 1 ended early:\n" + ns.console())
        return [float(x) for x in text.split()]

    cairn = Cairn(args.build, "reap")
    try:
        result = os.path.join(cairn.ns.dir, "result")
        cairn.add("orphans", f'exec = ["{maker}", "{n}", "{result}", "--stay"]\n'
                  '[restart]\npolicy = "never"\n')
        cairn.start()
        rows.append(("cairn-init", wait_result(cairn.ns, result)))
    finally:
        cairn.close()

    ns = Namespace("tini-reap")
    try:
        result = os.path.join(ns.dir, "result")
        ns.start([TINI, "--", maker, str(n), result])
        rows.append(("tini", wait_result(ns, result)))
    finally:
        ns.close()

    s6 = S6("reap")
    try:
        result = os.path.join(s6.ns.dir, "result")
        s6.add("orphans", f"{maker} {n} {result} --stay")
        s6.start()
        rows.append(("s6-svscan", wait_result(s6.ns, result)))
    finally:
        s6.close()
    return rows


def ready_bench(args):
    n = args.ready
    service = os.path.join(args.build, "tests", "cairn-test-service")
    rows = []

    def last_ready(record, t0):
        times = [float(line.split()[0]) for line in read(record).splitlines()
                 if line.split()[2:3] == ["ready"]]
        return (max(times) - t0) if len(times) >= n else None

    cairn = Cairn(args.build, "ready")
    try:
        record = os.path.join(cairn.ns.dir, "record")
        for i in range(n):
            cairn.add(f"svc{i:03d}", f'exec = ["{service}", "--name", "svc{i:03d}", "--record", '
                      f'"{record}", "fd-ready", "3"]\n[ready]\ntype = "fd"\nfd = 3\n')
        t0 = mono_ms()
        cairn.start()
        wait_until(lambda: cairn.all_ready(n), 120, f"{n} services ready", poll=0.005)
        seen = mono_ms() - t0
        rows.append(("cairn-init", seen, last_ready(record, t0)))
    finally:
        cairn.close()

    s6 = S6("ready")
    try:
        record = os.path.join(s6.ns.dir, "record")
        dirs = [s6.add(f"svc{i:03d}", f"{service} --name svc{i:03d} --record {record} "
                       "fd-ready 3", notification_fd=3) for i in range(n)]
        t0 = mono_ms()
        s6.start()
        # s6-svwait needs each service's supervise/ and event/ (made by its s6-supervise).
        wait_until(lambda: all(os.path.exists(d + "/supervise/status") for d in dirs), 120,
                   "s6-supervise for every service", poll=0.005)
        subprocess.run([S6_SVWAIT, "-U", "-a", "-t", "120000"] + dirs, check=True)
        seen = mono_ms() - t0
        rows.append(("s6-svscan", seen, last_ready(record, t0)))
    finally:
        s6.close()
    return rows


def spread(values):
    """The median of some milliseconds, and their range when there are several."""
    if not values:
        return "-"
    values = sorted(values)
    median = values[len(values) // 2] if len(values) % 2 else (
        values[len(values) // 2 - 1] + values[len(values) // 2]) / 2
    if len(values) == 1:
        return f"{median:.0f} ms"
    return f"{median:.0f} ms ({values[0]:.0f}–{values[-1]:.0f})"


def print_peer_table(args, reap_rows, ready_rows):
    n, m = args.orphans, args.ready
    print(f"### Reaping {n} orphans and starting {m} services to all-ready\n")
    print(f"| PID 1 | orphans: forked | all exited | all reaped | reap lag "
          f"| {m} services: all ready (seen by supervisor) | last service signalled ready |")
    print("|---|---|---|---|---|---|---|")
    for name in ("cairn-init", "tini", "s6-svscan"):
        reaps = [r for peer, r in reap_rows if peer == name]
        readies = [(seen, last) for peer, seen, last in ready_rows if peer == name]
        if reaps:
            cells = [spread([r[0] for r in reaps]), spread([r[1] for r in reaps]),
                     spread([r[2] for r in reaps]), spread([r[2] - r[1] for r in reaps])]
        else:
            cells = ["-"] * 4
        if name == "tini":
            cells += ["n/a (supervises one child)"] * 2
        elif readies:
            cells += [spread([r[0] for r in readies]),
                      spread([r[1] for r in readies if r[1] is not None])]
        else:
            cells += ["-"] * 2
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"""
Orphans (bench/init/orphans.cc, the same program under every PID 1, as a service of cairn-init
and s6, as tini's child): it double-forks {n} times; each grandchild waits until it has been
reparented to PID 1, then exits. Times are from the maker's start: *forked* = all {n} double
forks done; *all exited* = every orphan has exited (zombie or reaped); *all reaped* = no orphan
is a zombie any more (kill(pid, 0) fails with ESRCH); *reap lag* = reaped - exited, the time
PID 1 needs beyond the orphans' own exit. Each cell: the median of {args.repeat} runs (the
range in parentheses); the peers take turns, so load changes hit them alike.

{m} services: the same program (init/tests/test_service.cc: `fd-ready 3`, then sleeps) as {m}
independent services with s6-style fd readiness (cairn-init: `[ready] type = "fd"`; s6: a
`notification-fd` file, run scripts `#!/bin/sh` + exec). Times are from launching PID 1:
*seen by supervisor* = cairn-init's `status` shows all {m} `ready` (polled every 5 ms) / s6-svwait
-U -a on all {m} service directories returned; *last service signalled ready* = the latest
"ready" line the services wrote (CLOCK_MONOTONIC, shared by all namespaces). tini runs one
child and cannot supervise several services.
""")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--restarts", type=int, default=10000)
    parser.add_argument("--orphans", type=int, default=10000)
    parser.add_argument("--ready", type=int, default=100)
    parser.add_argument("--crash-interval", default="1h",
                        help="restart.interval of the crash-loop services (start-limit window)")
    parser.add_argument("--no-crash-loop", dest="crash_loop", action="store_false")
    parser.add_argument("--only", default="memory,reap,ready")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the reaping and all-ready benchmarks (median shown)")
    args = parser.parse_args()
    args.build = os.path.abspath(args.build)
    only = set(args.only.split(","))
    if os.geteuid() != 0:
        sys.exit("pid1_bench.py: needs root (namespaces, cgroups)")
    for tool in (TINI, S6_SVSCAN, S6_SVWAIT):
        if not os.access(tool, os.X_OK):
            sys.exit(f"pid1_bench.py: {tool} is missing (apt-get install tini s6)")

    # Ctrl-C/SIGTERM unwind through the finally blocks, which kill and remove everything.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    load = read("/proc/loadavg").split()[:3]
    print(f"Machine: {os.cpu_count()} CPUs, load average {' '.join(load)} at start; "
          f"kernel {os.uname().release}; cgroup2 at {cgroup2_mount()}, controllers: "
          f"{read(cgroup2_mount() + '/cgroup.controllers').strip() or 'none'}.\n")
    if "memory" in only:
        memory_bench(args)
    reap_rows, ready_rows = [], []
    for _ in range(args.repeat):
        if "reap" in only:
            reap_rows += reap_bench(args)
        if "ready" in only:
            ready_rows += ready_bench(args)
    if reap_rows or ready_rows:
        print_peer_table(args, reap_rows, ready_rows)
    load = read("/proc/loadavg").split()[:3]
    print(f"Load average at the end: {' '.join(load)}.")


if __name__ == "__main__":
    main()
