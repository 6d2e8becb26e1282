"""Drives release vigild nodes whose postgres sink writes to one database, for
bench/run-postgres-writes and bench/run-cluster. The client is cheap on purpose (the
daemons and PostgreSQL share the machine's cores with it): reports go out in large
pipelined writes and answers are only counted, so the process spends its time in the
kernel, not in Python; each command prints the client's own CPU time to show it.

usage:
  drive-postgres.py feed SOCKET FILE [SOCKET FILE ...]
      each FILE to its SOCKET, all at once, one connection each; waits until every sink
      has caught up; prints one JSON object (times from the first report sent)
  drive-postgres.py steady SOCKET FILE SECONDS
      FILE again and again under fresh ids for SECONDS at full rate, the sink's lag
      sampled every second; prints the samples, the slope of the lag, the verdict
  drive-postgres.py outage SOCKET FILE SECONDS STOP_COMMAND START_COMMAND
      full rate for SECONDS with the database up, then SECONDS more after STOP_COMMAND;
      then START_COMMAND and waits until the sink has caught up"""
import json, os, resource, socket, statistics, subprocess, sys, threading, time

CATCH_UP_TIMEOUT = float(os.environ.get("CATCH_UP_TIMEOUT", "600"))
# A fitted rise of the lag over the window above this many records (two of the sink's
# batches of 500) is a growing lag; below it, the lag is bounded.
GROWING_RISE = 1000


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


class Status:
    """One connection kept open for `{"op":"status"}` requests. A request unanswered for
    10 s is counted in `stalls` and asked again on a new connection."""

    stalls = 0

    def __init__(self, path):
        self.path = path
        self.open()

    def open(self):
        self.socket = connect(self.path)
        self.socket.settimeout(10)
        self.file = self.socket.makefile("rb")

    def __call__(self):
        while True:
            try:
                self.socket.sendall(b'{"op":"status"}\n')
                return json.loads(self.file.readline())
            except TimeoutError:
                Status.stalls += 1
                print(f"WARNING: a status request had no answer within 10 s ({Status.stalls} so far);"
                      " asking on a new connection", flush=True)
                self.socket.close()
                self.open()


def sink_of(status):
    sink = status["sinks"][0]
    assert sink["name"] == "postgres", sink
    return sink


def alerts_logged(status):
    return sum(status["counters"]["alerts"].values())


def caught_up(status):
    sink = sink_of(status)
    return sink["lag"] == 0 and (sink.get("reports") or {}).get("lag_bytes") == 0


def client_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Answers:
    """Reads a connection's answers until the daemon closes it, counting them."""

    def __init__(self, s):
        self.ok = self.refused = 0
        self.sample = b""
        self.thread = threading.Thread(target=self.read, args=(s,), daemon=True)
        self.thread.start()

    def read(self, s):
        rest = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            complete, rest = data[:cut], data[cut:]
            # An answer's first bytes say whether it was taken; only a refusal is looked at.
            total, ok = complete.count(b"\n"), complete.count(b'{"ok":true')
            self.ok += ok
            self.refused += total - ok
            if total != ok and not self.sample:
                self.sample = complete[:300]
        self.done = time.monotonic()

    def join(self, timeout=None):
        """Waits for the daemon to close the connection; false if it has not within `timeout`."""
        self.thread.join(timeout)
        assert self.refused == 0, f"{self.refused} reports refused: {self.sample!r}"
        return not self.thread.is_alive()


def fresh(data, round_number):
    """The reports under ids new to the daemon: RPT- becomes three other characters of the
    same length, so chunk boundaries found once hold for every round."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    tag = "".join(digits[(round_number // 36 ** k) % 36] for k in (2, 1, 0))
    return data.replace(b'"id":"RPT-', b'"id":"' + tag.encode() + b"-") if round_number else data


def boundaries(data, size=1 << 20):
    """Offsets of line ends about every `size` bytes."""
    cuts, at = [], 0
    while at < len(data):
        end = data.find(b"\n", min(at + size, len(data) - 1))
        end = len(data) if end < 0 else end + 1
        cuts.append((at, end))
        at = end
    return cuts


def wait_caught_up(statuses, timeout=CATCH_UP_TIMEOUT):
    """Polls until every node's sink has caught up; gives the moment, or None at timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(caught_up(status()) for status in statuses):
            return time.monotonic()
        time.sleep(0.05)
    return None


def feed(pairs):
    statuses = [Status(path) for path, _ in pairs]
    before = [alerts_logged(status()) for status in statuses]
    payloads = [open(name, "rb").read() for _, name in pairs]
    connections = [connect(path) for path, _ in pairs]
    readers = [Answers(s) for s in connections]
    senders = [
        threading.Thread(target=lambda s=s, d=d: (s.sendall(d), s.shutdown(socket.SHUT_WR)), daemon=True)
        for s, d in zip(connections, payloads)
    ]
    started = time.monotonic()
    for t in senders:
        t.start()
    for r in readers:
        r.join()
    done = wait_caught_up(statuses)
    final = [status() for status in statuses]
    print(json.dumps({
        "nodes": [
            {"reports": r.ok, "answered_s": round(r.done - started, 3),
             "alerts_logged": alerts_logged(f), "alerts_logged_before": b,
             "sink_delivered": sink_of(f)["delivered"], "sink_failures": sink_of(f)["failures"],
             "last_error": sink_of(f)["last_error"]}
            for r, f, b in zip(readers, final, before)],
        "answered_s": round(max(r.done for r in readers) - started, 3),
        "caught_up_s": None if done is None else round(done - started, 3),
        "client_cpu_s": round(client_cpu(), 2),
    }))


class Loop:
    """Sends the reports again and again under fresh ids, in chunks of about 1 MB, until
    told to stop; answers counted by an `Answers`."""

    def __init__(self, path, name):
        self.base = open(name, "rb").read()
        self.cuts = boundaries(self.base)
        self.socket = connect(path)
        self.answers = Answers(self.socket)
        self.stopping = threading.Event()
        self.rounds = 0
        self.problems = []
        self.thread = threading.Thread(target=self.send, daemon=True)

    def send(self):
        try:
            while not self.stopping.is_set():
                data = fresh(self.base, self.rounds)
                self.rounds += 1
                for start, end in self.cuts:
                    if self.stopping.is_set():
                        break
                    self.socket.sendall(data[start:end])
            self.socket.shutdown(socket.SHUT_WR)
        except OSError as error:
            self.problems.append(f"sending failed after {self.answers.ok:,} answers: {error}")

    def start(self):
        self.thread.start()

    def stop(self):
        """Stops sending; waits up to a minute for the last answers (their count is in the
        status counters either way)."""
        self.stopping.set()
        self.thread.join()
        if not self.answers.join(timeout=60):
            self.problems.append(f"the daemon had not closed the connection 60 s after the last report"
                                 f" ({self.answers.ok:,} answers read)")
        for problem in self.problems:
            print(f"WARNING: {problem}")


class Sampler:
    """Reads the status every second: (seconds, accepted, lag, report lag bytes, delivered)."""

    def __init__(self, path, started):
        self.status = Status(path)
        self.started = started
        self.samples = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def take(self):
        # The ticking thread and an explicit reading share the connection: one at a time.
        with self.lock:
            status = self.status()
            sink = sink_of(status)
            # The last tick and an explicit reading at the same moment count once.
            if self.samples and time.monotonic() - self.started - self.samples[-1][0] < 0.2:
                self.samples.pop()
            self.samples.append((time.monotonic() - self.started, status["counters"]["accepted"], sink["lag"],
                                 (sink.get("reports") or {}).get("lag_bytes"), sink["delivered"]))

    def run(self):
        tick = self.started
        while not self.stopping.is_set():
            self.take()
            tick += 1
            self.stopping.wait(max(0, tick - time.monotonic()))

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def at(self, second):
        """The sample nearest to `second`."""
        return min(self.samples, key=lambda s: abs(s[0] - second))


def print_samples(samples):
    print("   t(s)  accepted/s   alert lag  report lag (bytes)  delivered/s")
    for previous, sample in zip(samples, samples[1:]):
        span = sample[0] - previous[0]
        print(f"  {sample[0]:5.1f}  {(sample[1] - previous[1]) / span:10,.0f}  {sample[2]:10,}"
              f"  {sample[3] if sample[3] is not None else 'null':>18,}  {(sample[4] - previous[4]) / span:11,.0f}")


def slope(points):
    """Least-squares slope of y over x."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def steady(path, name, seconds):
    loop = Loop(path, name)
    started = time.monotonic()
    sampler = Sampler(path, started)
    loop.start()
    time.sleep(max(0, started + seconds - time.monotonic()))
    sampler.take()
    loop.stop()
    sampler.stop()
    samples = sampler.samples
    print_samples(samples)
    window = min(45, seconds * 3 / 4)
    tail = [(s[0], s[2]) for s in samples if s[0] >= seconds - window]
    rate = slope(tail)
    rise = rate * window
    accepted = samples[-1][1] - samples[0][1]
    print(f"ingested {accepted:,} reports in {samples[-1][0] - samples[0][0]:.1f} s:"
          f" {accepted / (samples[-1][0] - samples[0][0]):,.0f} reports/s")
    print(f"alert lag over the last {window:.0f} s: least-squares slope {rate:+,.1f} records/s"
          f" (fitted rise {rise:+,.0f}), from {tail[0][1]:,} to {tail[-1][1]:,}, max {max(t[1] for t in tail):,}")
    print(f"verdict: {'growing' if rise > GROWING_RISE else 'bounded'}"
          f" (growing: a fitted rise above {GROWING_RISE:,} records, two of the sink's batches)")
    print(f"client CPU: {client_cpu():.1f} s over {time.monotonic() - started:.0f} s")


def outage(path, name, seconds, stop_command, start_command):
    status = Status(path)
    loop = Loop(path, name)
    started = time.monotonic()
    sampler = Sampler(path, started)
    loop.start()
    time.sleep(max(0, started + seconds - time.monotonic()))
    sampler.take()
    up_end = sampler.samples[-1]
    stopping = time.monotonic()
    subprocess.run(stop_command, shell=True, check=True, stdout=subprocess.DEVNULL)
    stopped = time.monotonic()
    time.sleep(max(0, started + 2 * seconds - time.monotonic()))
    sampler.take()
    down_end = sampler.samples[-1]
    loop.stop()
    sampler.stop()
    down_status = status()
    subprocess.run(start_command, shell=True, check=True, stdout=subprocess.DEVNULL)
    restarted = time.monotonic()
    done = wait_caught_up([status])
    final = status()
    samples = sampler.samples
    print_samples(samples)

    def per_second(first, last):
        """Mean and standard deviation of the one-second rates between two sample times."""
        inside = [s for s in samples if first - 0.01 <= s[0] <= last + 0.01]
        rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(inside, inside[1:])]
        return statistics.fmean(rates), statistics.pstdev(rates)

    first = samples[0]
    up_rate = (up_end[1] - first[1]) / (up_end[0] - first[0])
    down_rate = (down_end[1] - up_end[1]) / (down_end[0] - up_end[0])
    up_mean, up_sd = per_second(first[0], up_end[0])
    down_mean, down_sd = per_second(up_end[0], down_end[0])
    print(f"database up   ({first[0]:.1f}-{up_end[0]:.1f} s): {up_rate:,.0f} reports/s"
          f" (one-second rates {up_mean:,.0f} ± {up_sd:,.0f})")
    print(f"database down ({up_end[0]:.1f}-{down_end[0]:.1f} s, pg_ctl stop -m fast took {stopped - stopping:.1f} s):"
          f" {down_rate:,.0f} reports/s (one-second rates {down_mean:,.0f} ± {down_sd:,.0f})")
    print(f"ratio down/up: {down_rate / up_rate:.3f}")
    print(f"alert lag: {up_end[2]:,} when the database stopped, {down_status['sinks'][0]['lag']:,} when it started again"
          f" (report lag {up_end[3]:,} and {(down_status['sinks'][0].get('reports') or {}).get('lag_bytes')} bytes);"
          f" sink failures during the outage: {down_status['sinks'][0]['failures']}")
    if done is None:
        left = sink_of(final)["lag"]
        drained = sink_of(down_status)["lag"] - left
        rate = drained / (time.monotonic() - restarted)
        print(f"NOT caught up {CATCH_UP_TIMEOUT:.0f} s after the restart (CATCH_UP_TIMEOUT): alert lag {left:,},"
              f" report lag {(sink_of(final).get('reports') or {}).get('lag_bytes')} bytes; the lag fell by {rate:,.0f} records/s,"
              f" about {left / rate if rate > 0 else float('inf'):,.0f} s more to go")
    else:
        print(f"caught up {done - restarted:.1f} s after the restart: lag 0, report lag 0 bytes,"
              f" {alerts_logged(final):,} alert records logged, {final['counters']['accepted']:,} reports accepted")
    print(f"client CPU: {client_cpu():.1f} s over {time.monotonic() - started:.0f} s")
    print(json.dumps({"alerts_logged": alerts_logged(final), "reports": final["counters"]["accepted"],
                      "caught_up": done is not None}))


command, arguments = sys.argv[1], sys.argv[2:]
if command == "feed" and len(arguments) >= 2 and len(arguments) % 2 == 0:
    feed(list(zip(arguments[0::2], arguments[1::2])))
elif command == "steady" and len(arguments) == 3:
    steady(arguments[0], arguments[1], float(arguments[2]))
elif command == "outage" and len(arguments) == 5:
    outage(arguments[0], arguments[1], float(arguments[2]), arguments[3], arguments[4])
else:
    sys.exit(__doc__)
