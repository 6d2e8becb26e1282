"""Drives a running vigild for bench/run: throughput over one and over 8 connections,
the disk's write bandwidth and the ceiling it sets with the bytes a report costs, round trips at low load (beside the disk alone doing the same writes and fsyncs, and the machine's own stalls), reload
of 1,000 rules (and what it does to acknowledgements), peak RSS after RSS_REPORTS
journalled reports. Prints one table with the ratio to the peer.
The throughput runs use the C client (bench/client.c, built by bench/run), whose own share
of the machine is printed beside each.
usage: VIGIL_CLIENT=PATH drive.py WORKDIR DAEMON_PID PEER_LINE RSS_REPORTS"""
import ctypes, gc, json, os, re, shutil, socket, statistics, subprocess, sys, threading, time

work, pid, peer_line, rss_reports = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
sock_path = os.path.join(work, "s.sock")
lines = open(os.path.join(work, "reports.ndjson"), "rb").read().splitlines(keepends=True)
peer_rate = float(re.search(r"peer_reports_per_s=(\d+)", peer_line).group(1))
client = os.environ.get("VIGIL_CLIENT") or sys.exit("drive.py: set VIGIL_CLIENT to the built bench/client.c")


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    return s


def renamed(batch, prefix):
    """The same reports under other ids, so they are new to the daemon."""
    return [l.replace(b'"id":"RPT-', b'"id":"' + prefix + b'-', 1) for l in batch]


def pipeline(batch):
    """Sends the reports on one connection while reading; gives (acknowledged, refused)."""
    s = connect()
    data = b"".join(batch)
    threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)), daemon=True).start()
    ok = bad = 0
    rest = b""
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        rest += chunk
        *done, rest = rest.split(b"\n")
        for line in done:
            if line.startswith(b'{"ok":true'):
                ok += 1
            else:
                bad += 1
    return ok, bad


def blast(connections, prefix):
    """The C client: every report, ids renamed to PREFIX-, over CONNECTIONS connections
    at once (contiguous parts). Gives (acknowledged reports/s, client's share of the machine)."""
    command = [client, "-c", str(connections), "-p", prefix, sock_path, os.path.join(work, "reports.ndjson")]
    run = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if run.returncode != 0:
        sys.exit(f"drive.py: {client} failed ({run.returncode})")
    fields = run.stdout.split()
    named = dict(f.split("=", 1) for f in fields[5:])
    seconds, other = float(fields[1]), int(named["other"])
    if other:
        print(f"{connections} connection(s): {other} answers were not ok", file=sys.stderr)
    return int(named["ok"]) / seconds, float(named["client_share"])


def rss_kib():
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1))


rows = []
n = len(lines)

# The bytes a report costs on disk: what the journal and the alert log grow by over the
# one-connection run, divided by its reports (vigild runs in WORKDIR with default paths).
stored = [os.path.join(work, "var/lib/vigil/reports.jsonl"), os.path.join(work, "var/log/vigil/alerts.jsonl")]


def stored_bytes():
    return sum(os.path.getsize(p) for p in stored if os.path.exists(p))


# 1. One connection, durability batch, the shipped rules.
before = stored_bytes()
one, share = blast(1, "ONE")
bytes_per_report = (stored_bytes() - before) / n
rows.append(("throughput, 1 connection (reports/s)", f"{one:,.0f}",
             f"{one / peer_rate:.2f}x peer (client: {share:.1%} of the machine)"))
print(f"after 1 connection: peak RSS {rss_kib() / 1024:.0f} MB", file=sys.stderr)

# 2. Eight connections at once, each with an eighth of the reports.
eight, share = blast(8, "EIGHT")
rows.append(("throughput, 8 connections (reports/s)", f"{eight:,.0f}",
             f"{eight / peer_rate:.2f}x peer (client: {share:.1%} of the machine)"))
print(f"after 8 connections: peak RSS {rss_kib() / 1024:.0f} MB", file=sys.stderr)

# The disk's own write bandwidth, in the same minutes: 256 MiB written in 1 MiB pieces and
# synced, as `durability: batch` waits for. With the bytes a report costs it gives a
# ceiling on reports/s that no work a report can lift (docs/benchmarks.md).
probe = os.path.join(work, "bandwidth-probe")
chunk = b"x" * (1 << 20)
descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
start = time.perf_counter()
for _ in range(256):
    os.write(descriptor, chunk)
os.fdatasync(descriptor)
bandwidth = 256 * (1 << 20) / (time.perf_counter() - start)
os.close(descriptor)
os.unlink(probe)
ceiling = bandwidth / bytes_per_report
rows.append(("the disk's write bandwidth (MB/s)", f"{bandwidth / 1e6:,.0f}",
             f"at {bytes_per_report:,.0f} bytes a report: at most {ceiling:,.0f} reports/s, {ceiling / peer_rate:.2f}x peer"))

# 3. Round trips at low load: one report at a time. After each, the disk alone does what
# the writer did for it, in files beside the daemon's: the report's line appended to one
# file and, when it raised alerts, a line of an alert's size for each to another (whose
# writeback is started first, as the writer does), then an fsync of each. That is the
# floor under the round trip with durability batch, measured in the same seconds.
libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
SYNC_FILE_RANGE_WRITE = 2
probe_journal = os.open(os.path.join(work, "probe-journal"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
probe_log = os.open(os.path.join(work, "probe-log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
alert_line = b"x" * 399 + b"\n"


def disk_alone(report, alerts):
    start = time.perf_counter()
    os.write(probe_journal, report)
    if alerts:
        os.write(probe_log, alert_line * alerts)
        libc.sync_file_range(probe_log, 0, 0, SYNC_FILE_RANGE_WRITE)
    os.fsync(probe_journal)
    if alerts:
        os.fsync(probe_log)
    return time.perf_counter() - start


# 10,000 trips: the p99.9 is then the tenth slowest, not the third or fourth.
round_trips = 10000
s = connect()
f = s.makefile("rb")
trips, floor = [], []
trips_began = time.perf_counter()
for i, line in enumerate(renamed(lines[:round_trips], b"LAT")):
    start = time.perf_counter()
    s.sendall(line)
    answer = f.readline()
    trips.append(time.perf_counter() - start)
    verdict = json.loads(answer)
    # A refusal or a duplicate wrote nothing: no floor to measure beside it.
    if verdict.get("ok") and not verdict.get("duplicate"):
        floor.append(disk_alone(line, len(verdict.get("alerts") or [])))
trips_took = time.perf_counter() - trips_began
s.close()
os.close(probe_journal)
os.close(probe_log)


# The machine alone, for as long as the round trips took: two threads passing a byte back
# and forth over a socket pair, no disk. A pass that takes over 1 ms is the host stalling a
# thread (this machine is a VM on a shared host), not anything a daemon does; such stalls
# set the round trip's p99.9 wherever they come more often than once in 1,000 trips.
def machine_stalls(seconds):
    left, right = socket.socketpair()
    def echo():
        while (byte := right.recv(1)):
            right.send(byte)
    threading.Thread(target=echo, daemon=True).start()
    passes, stalls = 0, 0
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        left.send(b"x")
        left.recv(1)
        passes += 1
        stalls += time.perf_counter() - start > 0.001
    left.close()
    return passes, stalls


gc_was_on = gc.isenabled()
gc.disable()
passes, stalls = machine_stalls(trips_took)
if gc_was_on:
    gc.enable()


def percentiles(samples):
    samples = sorted(samples)
    pct = lambda p: samples[min(len(samples) - 1, int(len(samples) * p))] * 1e6
    return f"{pct(0.5):.0f} / {pct(0.99):.0f} / {pct(0.999):.0f}"


rows.append(("round trip p50 / p99 / p99.9 (µs)", percentiles(trips), "target p99 < 1000, p99.9 < 2000"))
rows.append(("the disk alone, same writes and fsyncs (µs)", percentiles(floor), "the floor under the round trip"))
slow_trips = sum(1 for t in trips if t > 0.001)
rows.append(("passes over 1 ms: round trips / the machine alone", f"{slow_trips} / {stalls}",
             f"in {trips_took:.1f} s each ({len(trips):,} trips, {passes:,} thread-to-thread passes)"))

# 4. Reload of 1,000 rules while a client keeps submitting one report at a time.
stop = threading.Event()
acks = []
def prober():
    s = connect()
    f = s.makefile("rb")
    for i in range(10 ** 9):
        if stop.is_set():
            break
        line = lines[i % n].replace(b'"id":"RPT-', b'"id":"RLD%d-' % (i // n), 1)
        start = time.perf_counter()
        s.sendall(line)
        f.readline()
        acks.append((start, time.perf_counter() - start))
threading.Thread(target=prober, daemon=True).start()
time.sleep(0.5)
admin = connect()
af = admin.makefile("rb")
windows, reloads = [], []
for round in range(5):
    target = os.path.join(work, "Rules", "generated.yaml")
    if round % 2 == 0:
        shutil.copy(os.path.join(work, "generated.yaml"), target)
    else:
        os.unlink(target)
    start = time.perf_counter()
    admin.sendall(b'{"op":"reload"}\n')
    answer = json.loads(af.readline())
    took = time.perf_counter() - start
    assert answer.get("reloaded") is True, answer
    windows.append((start, start + took))
    reloads.append(took)
    time.sleep(0.3)
stop.set()
time.sleep(0.1)
during = [d for t, d in acks if any(a <= t <= b for a, b in windows)] or [0]
between = [d for t, d in acks if not any(a - 0.05 <= t <= b + 0.05 for a, b in windows)] or [0]
rows.append(("reload 1,000 rules (ms, median of 5)", f"{statistics.median(reloads) * 1000:.0f}", "target < 200"))
rows.append(("worst ack during reloads / median between (ms)",
             f"{max(during) * 1000:.1f} / {statistics.median(between) * 1000:.2f}", "target < 50"))

print(f"after the reloads: peak RSS {rss_kib() / 1024:.0f} MB", file=sys.stderr)

# 5. Peak RSS after RSS_REPORTS journalled reports in all.
journalled = 2 * n + round_trips + len(acks)
k = 0
while journalled < rss_reports:
    batch = renamed(lines, b"RSS%d" % k)[: rss_reports - journalled]
    journalled += pipeline(batch)[0]
    k += 1
rows.append((f"peak RSS after {journalled:,} reports (MB)", f"{rss_kib() / 1024:.0f}", "target < 100"))

print(f"peer (syslog-ng, 12 simpler rules): {peer_rate:,.0f} reports/s")
width = max(len(r[0]) for r in rows)
for name, value, note in rows:
    print(f"{name:<{width}}  {value:>18}  {note}")
print(f"ratio vigild/peer (1 connection): {one / peer_rate:.2f}")
