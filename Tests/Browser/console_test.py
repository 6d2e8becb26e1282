#!/usr/bin/env python3
"""Browser tests of vigild's web console (docs/console.md), in a real headless Chromium
driven by Selenium.

Starts a vigild of its own in a temporary directory (its socket, state, alert log, and an
HTTP listener on a free loopback port), submits a known set of reports over the Unix
socket, counts the alerts the socket's answers give, and checks what the console shows
against them. Each check is a named test case printing PASS or FAIL with its reason; the
script exits 1 when any fails, 2 when it cannot run at all (a tool missing, vigild not
starting). Every vigild it started is stopped (SIGTERM, then SIGKILL after 10 s) and the
temporary directory removed, whatever happens.

    python3 Tests/Browser/console_test.py [--vigild PATH] [--rules DIR] [--screenshots DIR]

Needs chromium, chromium-driver and python3-selenium: scripts/install-browser-test-tools.
"""

import argparse
import collections
import ctypes
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTALL_HINT = "run scripts/install-browser-test-tools (chromium, chromium-driver, python3-selenium)"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
PRIORITIES = ["critical", "high", "medium", "low", "info"]
LIVE_DEADLINE_S = 30
PAGE_LOAD_S = 30


def import_selenium():
    """Selenium from Debian's python3-selenium: with an interpreter other than the system's
    (pyenv, a venv), its dist-packages are added to the path."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        for path in ("/usr/lib/python3/dist-packages", "/usr/share/python3/dist-packages"):
            if os.path.isdir(os.path.join(path, "selenium")) and path not in sys.path:
                sys.path.append(path)
        try:
            import selenium  # noqa: F401
        except ImportError:
            return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    return webdriver, Service, By


# --- results ------------------------------------------------------------------------------

class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


results = []


def case(name, function):
    """Runs one named test case; prints PASS, or FAIL with its reason."""
    started = time.monotonic()
    try:
        function()
    except Failure as failure:
        results.append((name, False))
        print(f"FAIL {name}: {failure} ({time.monotonic() - started:.1f}s)", flush=True)
    except Exception as error:  # a Selenium error, a timeout: the case fails, the run goes on
        results.append((name, False))
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        print(f"FAIL {name}: {detail[:1500]} ({time.monotonic() - started:.1f}s)", flush=True)
    else:
        results.append((name, True))
        print(f"PASS {name} ({time.monotonic() - started:.1f}s)", flush=True)


def short(value, limit=300):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


# --- daemons ------------------------------------------------------------------------------

def die_with_parent():
    """In the child before exec: SIGKILL when this script dies, so that no vigild outlives
    it even if it is killed without a chance to clean up."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Daemon:
    """One vigild started by this script, with its stderr in a file."""

    def __init__(self, name, executable, arguments, directory):
        self.name = name
        self.directory = directory
        self.log_path = os.path.join(directory, f"{name}.stderr")
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [executable] + arguments, cwd=directory, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self.log_file, preexec_fn=die_with_parent)
        started.append(self)

    def log(self):
        if not self.log_file.closed:
            self.log_file.flush()
        with open(self.log_path, "rb") as file:
            return file.read().decode("utf-8", "replace")

    def running(self):
        return self.process.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; gives the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        return self.process.returncode


started = []


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def exchange(socket_path, requests, timeout=60):
    """Sends request objects (or raw lines) on one connection, half-closes, and reads one
    JSON response per request until the daemon closes."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in requests]
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        client.connect(socket_path)
        client.sendall(data)
        client.shutdown(socket.SHUT_WR)
        received = bytearray()
        while True:
            chunk = client.recv(65536)
            if not chunk:
                break
            received += chunk
    answers = [json.loads(line) for line in received.decode("utf-8").split("\n") if line.strip()]
    if len(answers) != len(requests):
        raise Failure(f"sent {len(requests)} requests on the socket, got {len(answers)} answers")
    return answers


def wait_for_socket(daemon, socket_path, deadline_s=90):
    """Until the socket answers {"op":"status"} with ok; fails when vigild exits first."""
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        if not daemon.running():
            raise Failure(f"{daemon.name} exited at start with status {daemon.process.returncode}: "
                          f"{daemon.log()[-3000:]}")
        if os.path.exists(socket_path):
            try:
                answer = exchange(socket_path, [{"op": "status"}], timeout=10)[0]
                if answer.get("ok"):
                    return answer
                last = answer
            except (OSError, ValueError, Failure) as error:
                last = error
        time.sleep(0.1)
    raise Failure(f"{daemon.name}'s socket did not answer status within {deadline_s}s (last: {last}); "
                  f"log: {daemon.log()[-3000:]}")


def request(port, method, path, headers=None, body=None, timeout=30):
    """One HTTP request to 127.0.0.1:port; gives (status, headers as a dict of lists with
    lower-case names, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        collected = collections.defaultdict(list)
        for name, value in response.getheaders():
            collected[name.lower()].append(value)
        return response.status, collected, body
    finally:
        connection.close()


def wait_for_http(daemon, port, deadline_s=60):
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        if not daemon.running():
            raise Failure(f"{daemon.name} exited with status {daemon.process.returncode}: {daemon.log()[-3000:]}")
        try:
            status, _, _ = request(port, "GET", "/api/status", timeout=10)
            return status
        except OSError as error:
            last = error
        time.sleep(0.1)
    raise Failure(f"{daemon.name}'s HTTP listener on 127.0.0.1:{port} did not answer within {deadline_s}s "
                  f"(last: {last}); log: {daemon.log()[-3000:]}")


# --- the reports --------------------------------------------------------------------------

def build_reports():
    """The known set: several priorities and governorates (one spelled in Arabic, one
    'Idleb'), Arabic and English text, coordinates. `region` is the P-code the console's
    atlas should give; `since_august` marks the reports of August 2016."""
    reports = [
        # barrel bombs on a market: critical (and the ceasefire); Arabic; governorate "Idleb"
        {"id": "VB-IDL-1", "occurred_at": "2016-03-04T06:40:00+02:00", "type": "attack",
         "confidence": "probable", "lang": "ar",
         "location": {"governorate": "Idleb", "place": "Maarat al-Numan market", "lat": 35.643, "lon": 36.674,
                      "populated": True},
         "perpetrator": {"name": "القوات الجوية", "party": "government"},
         "target": {"type": "market"}, "weapons": ["barrel_bomb"],
         "casualties": {"killed": 9, "injured": 21, "civilians_killed": 9, "children_killed": 2},
         "narrative": "سقوط برميلين متفجرين على السوق"},
        # a hospital hit: critical; governorate in Arabic script
        {"id": "VB-IDL-2", "occurred_at": "2016-06-15T10:00:00+03:00", "type": "attack", "lang": "ar",
         "location": {"governorate": "إدلب", "place": "كفرنبل", "lat": 35.614, "lon": 36.561, "populated": True},
         "perpetrator": {"party": "russia"}, "target": {"type": "hospital", "name": "مشفى كفرنبل الجراحي"},
         "weapons": ["air_strike"], "narrative": "غارة جوية على المشفى الجراحي"},
        # Manbij the day before the SDF took it: attack in designated territory, medium
        {"id": "VB-ALP-1", "occurred_at": "2016-08-11", "type": "attack", "lang": "en",
         "location": {"governorate": "Aleppo", "place": "Manbij", "lat": 36.5281, "lon": 37.9547},
         "perpetrator": {"party": "coalition"}, "target": {"type": "residential"},
         "casualties": {"civilians_killed": 3},
         "narrative": "Coalition aircraft struck a residential block in Manbij."},
        # a UN request denied, the requester in Arabic: high; the message starts in Arabic
        {"id": "VB-RD-1", "occurred_at": "2016-05-12", "type": "access", "lang": "ar",
         "location": {"governorate": "Rif Dimashq", "place": "دوما"},
         "access": {"requested_by": "الأمم المتحدة والهلال الأحمر", "status": "denied", "destination": "دوما",
                    "request_id": "IAC-2016-05-17"},
         "narrative": "رفض طلب القافلة المشتركة إلى دوما"},
        # a UN request unanswered for 40 days: medium
        {"id": "VB-DAM-1", "occurred_at": "2016-07-20", "reported_at": "2016-07-20", "type": "access",
         "lang": "en", "location": {"governorate": "Damascus", "place": "Yarmouk"},
         "access": {"requested_by": "UN OCHA", "status": "pending", "submitted_at": "2016-06-10T09:00:00Z",
                    "request_id": "OCHA-2016-06-33"},
         "narrative": "The request to reach Yarmouk is still pending."},
        # a journalist detained: high; English, with a name the text filter looks for
        {"id": "VB-HMS-1", "occurred_at": "2016-04-18", "type": "detention", "lang": "en",
         "location": {"governorate": "Homs", "place": "Talbiseh"},
         "perpetrator": {"name": "Quartzfalcon Brigade", "party": "government"},
         "detention": {"count": 1, "kind": "arbitrary", "victims": ["journalist"]},
         "narrative": "A local journalist was detained at a checkpoint north of Homs."},
        # hostages taken by ISIL in Raqqa: critical
        {"id": "VB-RAQ-1", "occurred_at": "2016-08-20T08:00:00+03:00", "type": "detention", "lang": "en",
         "location": {"governorate": "Ar-Raqqa", "place": "Raqqa", "lat": 35.95, "lon": 39.0167},
         "perpetrator": {"name": "ISIL", "party": "isil"},
         "detention": {"count": 4, "kind": "hostage", "ransom_demanded": True},
         "narrative": "Four men taken hostage and a ransom demanded."},
    ]
    regions = {"VB-IDL-1": "SY07", "VB-IDL-2": "SY07", "VB-ALP-1": "SY02", "VB-RD-1": "SY03",
               "VB-DAM-1": "SY01", "VB-HMS-1": "SY04", "VB-RAQ-1": "SY11"}
    return reports, regions


LIVE_REPORT = {
    "id": "VB-LIVE-1", "occurred_at": "2016-09-05T09:30:00+03:00", "type": "attack", "lang": "en",
    "location": {"governorate": "Hama", "place": "Kafr Zita", "lat": 35.374, "lon": 36.6, "populated": True},
    "perpetrator": {"party": "government"}, "target": {"type": "school"}, "weapons": ["artillery"],
    "narrative": "Shells hit a primary school during lessons."}

PWN_SCRIPT = "<script>window.__pwned=1</script>"
PWN_IMG = '"><img src=x onerror="window.__pwned=1">'
PWN_URL = "javascript:window.__pwned=1"
RLO = "\u202e"


def hostile_reports():
    big_unit = "سوق <b>bold</b> " + PWN_SCRIPT + " " + PWN_IMG + " " + RLO + "gnp.exe "
    big = ""
    while len((big + big_unit).encode("utf-8")) <= 65536:
        big += big_unit
    while len(big.encode("utf-8")) < 65536:
        big += "x"
    return [
        {"id": "VB-XSS-1", "occurred_at": "2016-04-02", "type": "attack", "lang": "en",
         "source": {"org": PWN_URL, "kind": "other"},
         "location": {"governorate": "Hama", "place": PWN_IMG},
         "perpetrator": {"name": PWN_SCRIPT, "party": "government"},
         "target": {"type": "residential", "name": PWN_URL},
         "narrative": f"{PWN_SCRIPT} {PWN_IMG} {PWN_URL} {RLO}txt.exe"},
        {"id": "VB-XSS-2", "occurred_at": "2016-04-03", "type": "attack", "lang": "en",
         "location": {"governorate": "Homs", "place": f"{RLO}evil{RLO} {PWN_URL}"},
         "perpetrator": {"name": f"{RLO}Brigade X' onmouseover='window.__pwned=1", "party": "opposition"},
         "target": {"type": "residential"},
         "narrative": f"{RLO}gnp.exe <svg onload=window.__pwned=1> {PWN_SCRIPT}"},
        {"id": "VB-BIG-1", "occurred_at": "2016-04-04", "type": "attack", "lang": "ar",
         "location": {"governorate": "Hama", "place": "Latamneh " + PWN_SCRIPT},
         "perpetrator": {"name": PWN_IMG, "party": "government"}, "target": {"type": "market"},
         "narrative": big},
        # a place and a governorate thousands of letters long, with no space to break at
        {"id": "VB-WIDE-1", "occurred_at": "2016-04-05", "type": "attack", "weapons": ["barrel_bomb"],
         "location": {"governorate": "G" * 4000, "place": "W" * 3000, "populated": True}},
    ]


# --- the browser --------------------------------------------------------------------------

HOOKS = """
window.__vigilTest = {alerts: [], csp: [], errors: []};
window.alert = function (message) { window.__vigilTest.alerts.push(String(message)); };
window.confirm = window.prompt = window.alert;
document.addEventListener('securitypolicyviolation', function (event) {
  window.__vigilTest.csp.push(event.violatedDirective + ' blocked ' + event.blockedURI + ' at ' +
    event.sourceFile + ':' + event.lineNumber);
}, true);
window.addEventListener('error', function (event) {
  window.__vigilTest.errors.push(String(event.message || event.type));
}, true);
// The page's EventSource, kept where a test can reach it (it is the real one).
window.__vigilTest.sources = [];
(function () {
  var Real = window.EventSource;
  if (!Real) return;
  window.EventSource = function (url, init) {
    var source = new Real(url, init);
    window.__vigilTest.sources.push(source);
    return source;
  };
  window.EventSource.prototype = Real.prototype;
})();
"""


class Browser:
    def __init__(self, selenium):
        webdriver, Service, By = selenium
        self.By = By
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--lang=en-US", "--no-first-run",
                         "--disable-background-networking", "--disable-extensions"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(PAGE_LOAD_S)
        from selenium.common.exceptions import TimeoutException
        self.TimeoutException = TimeoutException
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOKS})
        self.viewport(1280, 900)

    def viewport(self, width, height, mobile=False):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def get(self, url):
        self.logs()  # drop what earlier pages logged
        started = time.monotonic()
        try:
            self.driver.get(url)
        except self.TimeoutException:
            raise Failure(
                f"loading {url} took more than {PAGE_LOAD_S}s. (If it came after several /alerts pages: Chrome "
                f"allows 6 connections to a host over HTTP/1.1, and the EventSource of a page kept in the "
                f"back/forward cache stays open unless console.js closes it on 'pagehide'.)")
        self.wait(lambda: self.js("return document.readyState") == "complete", 30, f"{url} did not load")
        took = time.monotonic() - started
        if took > 10:
            print(f"note: loading {url} took {took:.0f}s", flush=True)

    def js(self, script, *arguments):
        return self.driver.execute_script(script, *arguments)

    def all(self, selector):
        return self.driver.find_elements(self.By.CSS_SELECTOR, selector)

    def one(self, selector):
        found = self.all(selector)
        check(found, f"{self.driver.current_url}: no element matches {selector!r}")
        return found[0]

    def text(self, selector):
        """The element's textContent, exactly (Selenium's .text trims and folds)."""
        return self.js("return arguments[0].textContent", self.one(selector))

    def wait(self, condition, timeout, message):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():
                    return
            except Failure:
                pass
            if time.monotonic() > deadline:
                raise Failure(message)
            time.sleep(0.2)

    def logs(self):
        try:
            return self.driver.get_log("browser")
        except Exception:
            return []

    def quit(self):
        try:
            self.driver.quit()
        except Exception:
            pass


# --- the run ------------------------------------------------------------------------------

class Run:
    def __init__(self, arguments, selenium):
        self.arguments = arguments
        self.selenium = selenium
        self.directory = tempfile.mkdtemp(prefix="vb-", dir="/tmp")
        os.chmod(self.directory, 0o700)
        self.browser = None
        self.submitted = {}  # report id -> (report, answer)
        self.alerts = []  # one per alert the socket answered: seq, rule, priority, report id

    # The main daemon, with the console on a free loopback port.
    def start(self, console=True):
        self.socket = os.path.join(self.directory, "s.sock")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.alert_log = os.path.join(self.directory, "log", "alerts.jsonl")
        self.daemon = Daemon("vigild", self.arguments.vigild, [
            "--socket", self.socket, "--rules", self.arguments.rules,
            "--state-dir", os.path.join(self.directory, "state"), "--alert-log", self.alert_log]
            + (["--http", f"127.0.0.1:{self.port}"] if console else []), self.directory)
        status = wait_for_socket(self.daemon, self.socket)
        print(f"vigild (pid {self.daemon.process.pid}) ready: socket {self.socket}, "
              f"console {self.base if console else 'off'}, rule set {status.get('ruleset', {}).get('revision')}",
              flush=True)
        if console:
            http_status = wait_for_http(self.daemon, self.port)
            print(f"console answers: GET /api/status -> {http_status}", flush=True)

    def harness(self):
        """--harness-only: what the tests stand on, without a console (developing them
        against a vigild that has none): the counts, Chromium, the page hooks."""
        counts, ruleset_records = self.expected_counts()
        self.status_agrees(counts, ruleset_records)
        html = ('<p id=rtl dir=auto>' + self.alerts[0]["message"] + '</p><p id=ar dir=auto>مرحبا hello</p>'
                '<p id=en dir=auto>hello مرحبا</p>' + PWN_SCRIPT + PWN_IMG.lstrip('">'))
        policy = "default-src 'self'; script-src 'self'"
        self.browser.get("data:text/html;charset=utf-8," + urllib.parse.quote(
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">' + html))
        time.sleep(0.5)
        directions = {i: self.browser.js("return getComputedStyle(document.getElementById(arguments[0])).direction", i)
                      for i in ("ar", "en")}
        check(directions == {"ar": "rtl", "en": "ltr"}, f"computed directions {directions}")
        state = self.browser.js("return [typeof window.__pwned, window.__vigilTest]")
        check(state[0] == "undefined", "the CSP did not block the inline script")
        check(len(state[1]["csp"]) == 2, f"the hooks saw CSP violations {state[1]['csp']}, expected 2")
        severe = [e for e in self.browser.logs() if e.get("level") == "SEVERE"]
        check(len(severe) >= 2, f"the browser log has {len(severe)} errors, expected the 2 CSP violations")
        print(f"harness: counts {counts}; Chromium headless: directions {directions}, hooks "
              f"{len(state[1]['csp'])} CSP violations caught, {len(severe)} console errors", flush=True)

    def submit(self, reports):
        answers = exchange(self.socket, reports)
        for report, answer in zip(reports, answers):
            check(answer.get("ok") is True and answer.get("duplicate") is False,
                  f"submitting {report['id']}: {short(answer)}")
            self.submitted[report["id"]] = (report, answer)
            for alert in answer["alerts"]:
                self.alerts.append({"seq": alert["seq"], "rule": alert["rule"], "priority": alert["priority"],
                                    "report_id": report["id"], "message": alert["message"],
                                    "occurred_at": report["occurred_at"]})
        return answers

    def records(self):
        """The alert log's records, by seq (with their exact lines)."""
        found = {}
        with open(self.alert_log, encoding="utf-8") as file:
            for line in file:
                line = line.rstrip("\n")
                if line:
                    record = json.loads(line)
                    found[record["seq"]] = (record, line)
        return found

    def expected_counts(self):
        """Per priority, the alerts the submit answers gave; and the rule-set records (the
        alert log's records without a report), which `status` counts as alerts too but the
        overview, which counts incidents' alerts, does not."""
        counts = {p: 0 for p in PRIORITIES}
        for alert in self.alerts:
            counts[alert["priority"]] += 1
        ruleset_records = [r for r, _ in self.records().values() if r["report_id"] is None]
        return counts, ruleset_records

    def status_agrees(self, counts, ruleset_records):
        """The socket's status counters are the submit answers' alerts plus the rule-set records."""
        status = exchange(self.socket, [{"op": "status"}])[0]
        socket_counts = {p: status["counters"]["alerts"].get(p, 0) for p in PRIORITIES}
        with_ruleset = dict(counts)
        for record in ruleset_records:
            with_ruleset[record["priority"]] += 1
        check(socket_counts == with_ruleset,
              f"the socket's own answers disagree: status counters.alerts {socket_counts}, submit answers plus "
              f"{len(ruleset_records)} rule-set record(s) {with_ruleset}")

    def seqs(self, predicate=lambda alert: True):
        return sorted((a["seq"] for a in self.alerts if predicate(a)), reverse=True)

    def url(self, path, **query):
        pairs = []
        for key, value in query.items():
            for item in (value if isinstance(value, list) else [value]):
                pairs.append((key, item))
        return self.base + path + ("?" + urllib.parse.urlencode(pairs) if pairs else "")

    def rows(self):
        """The alerts table's rows: (seq, priority, rule, message) in page order."""
        return self.browser.js("""
            return Array.from(document.querySelectorAll('table#alerts tbody tr[data-seq]')).map(function (tr) {
              function cell(name) { var td = tr.querySelector('td.' + name); return td ? td.textContent.trim() : null; }
              return [Number(tr.getAttribute('data-seq')), cell('priority'), cell('rule'), cell('message'),
                      tr.className, !!tr.querySelector('a[href="/alerts/' + tr.getAttribute('data-seq') + '"]')];
            });""")

    # --- a. the overview
    def overview_counts(self):
        counts, ruleset_records = self.expected_counts()
        self.status_agrees(counts, ruleset_records)
        self.browser.get(self.url("/"))
        shown = {}
        for priority in PRIORITIES:
            shown[priority] = self.browser.text(f"#count-{priority}").strip()
        total = self.browser.text("#total-alerts").strip()
        expected = {p: str(n) for p, n in counts.items()}
        check(shown == expected, f"per priority the overview shows {shown}, the submit answers give {expected} "
                                 f"(rule-set records not counted)")
        check(total == str(sum(counts.values())),
              f"#total-alerts shows {total!r}, the submit answers give {sum(counts.values())}")

    def overview_charts(self, regions):
        problems = []
        per_day = collections.Counter(incident_day(a["occurred_at"]) for a in self.alerts)
        for days in (None, 7):
            self.browser.get(self.url("/") if days is None else self.url("/", days=days))
            bars = self.browser.js("""return Array.from(document.querySelectorAll('#per-day svg rect.bar')).map(
                function (r) { return [r.getAttribute('data-day'), r.getAttribute('data-count')]; });""")
            want = days or 30
            label = f"/?days={days}" if days else "/"
            if len(bars) not in (want, want + 1):
                problems.append(f"{label}: {len(bars)} rect.bar in #per-day svg, expected one per day ({want})")
            try:
                dates = [datetime.date.fromisoformat(b[0]) for b in bars]
                counts = [int(b[1]) for b in bars]
            except (TypeError, ValueError):
                problems.append(f"{label}: bars without data-day YYYY-MM-DD or a whole data-count: {bars[:3]}")
                continue
            if any((b - a).days != 1 for a, b in zip(dates, dates[1:])):
                problems.append(f"{label}: the bars' days are not consecutive: {[b[0] for b in bars]}")
            wrong = [(day, count, per_day.get(day, 0)) for day, count in zip((b[0] for b in bars), counts)
                     if count != per_day.get(day, 0)]
            if wrong:
                problems.append(f"{label}: bars (day, data-count, alerts of incidents that day) that disagree: {wrong[:5]}")
            if days is None and not sum(counts):
                problems.append(f"{label}: the chart's {len(bars)} days ({bars[0][0] if bars else None} to "
                                f"{bars[-1][0] if bars else None}) hold none of the incidents (alerts by incident "
                                f"day: {dict(sorted(per_day.items()))})")
        self.browser.get(self.url("/"))
        top = self.browser.js("""return Array.from(document.querySelectorAll('#top-rules li[data-rule]')).map(
            function (li) { var c = li.querySelector('.count'); return [li.getAttribute('data-rule'), c ? c.textContent.trim() : null]; });""")
        by_rule = collections.Counter(a["rule"] for a in self.alerts)
        if not top:
            problems.append("#top-rules has no li[data-rule]")
        for rule, count in top:
            if count is None or not count.isdigit() or int(count) != by_rule.get(rule, 0):
                problems.append(f"#top-rules li[data-rule={rule!r}] .count is {count!r}, expected {by_rule.get(rule, 0)}")
        if top and top[0][0] not in [r for r, n in by_rule.items() if n == max(by_rule.values())]:
            problems.append(f"#top-rules starts with {top[0][0]}, not the most frequent rule ({by_rule.most_common(2)})")
        paths = self.browser.js("""return Array.from(document.querySelectorAll('#map svg path.region')).map(
            function (p) { return [p.getAttribute('data-region'), p.getAttribute('data-count')]; });""")
        shown = dict(paths)
        if len(paths) != 14:
            problems.append(f"#map svg has {len(paths)} path.region, expected 14 governorates")
        per_region = collections.Counter(regions[a["report_id"]] for a in self.alerts if a["report_id"] in regions)
        for region, count in sorted(per_region.items()):
            if shown.get(region) != str(count):
                problems.append(f"path.region[data-region={region}] has data-count {shown.get(region)!r}, expected {count}")
        points = len(self.browser.all("#map svg circle.point"))
        with_coordinates = sum(1 for a in self.alerts if "lat" in self.submitted[a["report_id"]][0].get("location", {}))
        if points != with_coordinates:
            problems.append(f"#map svg has {points} circle.point, expected {with_coordinates} (alerts of reports "
                            f"with location.lat/lon)")
        nav = [a.get_attribute("href") for a in self.browser.all("nav a")]
        for href in ("/", "/alerts", "/rules", "/health"):
            if not self.browser.all(f'nav a[href="{href}"]'):
                problems.append(f'no nav a[href="{href}"] on / (nav links: {nav})')
        check(not problems, "; ".join(problems))

    # --- c. filters
    def filters(self):
        problems = []
        self.browser.get(self.url("/alerts", limit=500))
        form_inputs = self.browser.js("""return Array.from(document.querySelectorAll('form#filters [name]')).map(
            function (e) { return e.getAttribute('name'); });""")
        for name in ("priority", "rule", "governorate", "since", "until", "q"):
            if name not in form_inputs:
                problems.append(f"form#filters has no input named {name!r} (it has {sorted(set(form_inputs))})")
        rows = self.rows()
        all_seqs = [r[0] for r in rows]
        expected_all = sorted([a["seq"] for a in self.alerts] +
                              [s for s, (r, _) in self.records().items() if r["report_id"] is None], reverse=True)
        if all_seqs != expected_all:
            problems.append(f"/alerts?limit=500 lists seqs {all_seqs}, expected all alerts newest first {expected_all}")
        no_link = [r[0] for r in rows if not r[5]]
        if no_link:
            problems.append(f"rows without a[href=/alerts/N]: {no_link}")
        ruleset_info = [s for s, (r, _) in self.records().items() if r["report_id"] is None and r["priority"] == "info"]
        cases = [
            ("priority=critical", {"priority": "critical"}, self.seqs(lambda a: a["priority"] == "critical")),
            ("priority=medium,info (comma list)", {"priority": "medium,info"},
             sorted(self.seqs(lambda a: a["priority"] in ("medium", "info")) + ruleset_info, reverse=True)),
            ("priority=high&priority=medium (repeated)", {"priority": ["high", "medium"]},
             self.seqs(lambda a: a["priority"] in ("high", "medium"))),
            ("rule=ceasefire.*", {"rule": "ceasefire.*"},
             self.seqs(lambda a: a["rule"].startswith("ceasefire."))),
            ("governorate=Idlib (reports say Idleb and إدلب)", {"governorate": "Idlib"},
             self.seqs(lambda a: a["report_id"] in ("VB-IDL-1", "VB-IDL-2"))),
            ("governorate=إدلب", {"governorate": "إدلب"}, self.seqs(lambda a: a["report_id"] in ("VB-IDL-1", "VB-IDL-2"))),
            ("q=quartzfalcon brigade (case-insensitive)", {"q": "quartzfalcon brigade"},
             self.seqs(lambda a: a["report_id"] == "VB-HMS-1")),
            ("since=2016-08-01&until=2016-08-31", {"since": "2016-08-01", "until": "2016-08-31"},
             self.seqs(lambda a: a["report_id"] in ("VB-ALP-1", "VB-RAQ-1"))),
            ("priority=critical&governorate=Idlib", {"priority": "critical", "governorate": "Idlib"},
             self.seqs(lambda a: a["priority"] == "critical" and a["report_id"] in ("VB-IDL-1", "VB-IDL-2"))),
        ]
        for label, query, expected in cases:
            check(expected, f"the known reports raised nothing for {label}: fix the test's reports")
            self.browser.get(self.url("/alerts", limit=500, **query))
            rows = self.rows()
            seqs = [r[0] for r in rows]
            if seqs != expected:
                problems.append(f"/alerts?{label}: rows {seqs}, expected {expected}")
            api_query = urllib.parse.urlencode([(k, v) for k, vs in query.items()
                                                for v in (vs if isinstance(vs, list) else [vs])] + [("limit", "500")])
            status, _, body = request(self.port, "GET", "/api/alerts?" + api_query)
            try:
                api = json.loads(body)
                api_seqs = [r.get("seq") for r in api.get("alerts", [])]
                if status != 200 or api_seqs != expected or api.get("matched") != len(expected):
                    problems.append(f"GET /api/alerts?{label}: status {status}, seqs {api_seqs}, matched "
                                    f"{api.get('matched')}; expected {expected}, matched {len(expected)}")
            except ValueError:
                problems.append(f"GET /api/alerts?{label}: status {status}, not JSON: {short(body)}")
        # the input keeps the filter's value, so the form shows what is applied
        self.browser.get(self.url("/alerts", rule="ceasefire.*"))
        value = self.browser.js("var e = document.querySelector('form#filters [name=rule]'); return e ? e.value : null")
        if value != "ceasefire.*":
            problems.append(f"/alerts?rule=ceasefire.*: form#filters [name=rule] holds {value!r}")
        # paging: limit=2 gives the two newest and a#older; before= goes on from there
        self.browser.get(self.url("/alerts", limit=2))
        first = [r[0] for r in self.rows()]
        if first != expected_all[:2] or not self.browser.all("a#older"):
            problems.append(f"/alerts?limit=2: rows {first}, a#older present: {bool(self.browser.all('a#older'))}; "
                            f"expected {expected_all[:2]} and a#older")
        else:
            self.browser.one("a#older").click()
            try:
                self.browser.wait(lambda: [r[0] for r in self.rows()] == expected_all[2:4], 15, "")
            except Failure:
                problems.append(f"a#older from /alerts?limit=2 did not list the next two, {expected_all[2:4]}: it went "
                                f"to {self.browser.driver.current_url[len(self.base):]}, rows "
                                f"{[r[0] for r in self.rows()]}"
                                + (" (the link drops limit=2)" if "limit=2" not in self.browser.driver.current_url else ""))
        check(not problems, "; ".join(problems))

    # --- d. the detail page
    def detail(self):
        report, answer = self.submitted["VB-IDL-1"]
        seq = answer["alerts"][0]["seq"]
        record, line = self.records()[seq]
        self.browser.get(self.url(f"/alerts/{seq}"))
        problems = []
        record_text = self.browser.text("#record pre")
        if record_text.strip() != line:
            problems.append(f"#record pre is {short(record_text)}, the alert log's line is {short(line)}")
        report_text = self.browser.text("#report pre")
        if report["id"] not in report_text or report["narrative"] not in report_text:
            problems.append(f"#report pre lacks the report's id or narrative: {short(report_text, 600)}")
        try:
            difference = json_difference(json.loads(report_text), report)
            if difference:
                problems.append(f"#report pre parses to another report than submitted: {difference}")
        except ValueError as error:
            problems.append(f"#report pre is not JSON ({error}): {short(report_text, 600)}")
        if "\n" not in report_text.strip():
            problems.append("#report pre is not pretty-printed (one line)")
        basis = [li.text.strip() for li in self.browser.all("#basis li")]
        if basis != record["basis"]:
            problems.append(f"#basis li are {basis}, the record's basis is {record['basis']}")
        if not self.browser.all('#chain[data-verified="true"]'):
            chain = self.browser.all("#chain")
            problems.append("no #chain[data-verified=\"true\"]" +
                            (f" (#chain data-verified={chain[0].get_attribute('data-verified')!r}: {short(chain[0].text)})"
                             if chain else " (no #chain at all)"))
        problems += self.api_alert_problems(seq, report, record, line)
        missing = sorted(self.records())[-1] + 1000
        self.browser.get(self.url(f"/alerts/{missing}"))
        status, _, _ = request(self.port, "GET", f"/alerts/{missing}")
        if status != 404:
            problems.append(f"GET /alerts/{missing} (no such alert): status {status}, expected 404")
        check(not problems, "; ".join(problems))

    def api_alert_problems(self, seq, report, record, line):
        status, _, body = request(self.port, "GET", f"/api/alerts/{seq}")
        label = f"GET /api/alerts/{seq}"
        try:
            api = json.loads(body)
        except ValueError:
            return [f"{label}: status {status}, not JSON: {short(body)}"]
        problems = []
        if status != 200:
            problems.append(f"{label}: status {status}")
        if api.get("line") != line:
            problems.append(f"{label}: line is {short(api.get('line'), 200)}, the log's line is {short(line, 200)}")
        shown = api.get("report")
        # the report itself, or the journal's entry holding it ({"received_at", "report"})
        if shown != report and not (isinstance(shown, dict) and shown.get("report") == report):
            problems.append(f"{label}: report is not the submitted report: "
                            f"{json_difference(shown, report) if isinstance(shown, dict) else short(shown)}")
        shown_record = api.get("record") or {}
        wrong = [k for k, v in record.items() if shown_record.get(k) != v]
        if wrong:
            problems.append(f"{label}: record differs from the log's in {wrong}")
        if (api.get("chain") or {}).get("verified") is not True:
            problems.append(f"{label}: chain is {api.get('chain')}")
        return problems

    # --- f. right-to-left
    def direction(self):
        self.browser.get(self.url("/alerts", limit=500))
        rtl_seq = self.submitted["VB-RD-1"][1]["alerts"][0]["seq"]
        ltr_seq = self.submitted["VB-HMS-1"][1]["alerts"][0]["seq"]
        problems = []
        # A message is the rule's English sentence with the report's Arabic in it: the
        # sentence runs left to right even when it starts with an Arabic name, and each
        # Arabic stretch is isolated in a <bdi> that runs right to left.
        for seq, want in ((rtl_seq, "ltr"), (ltr_seq, "ltr")):
            cell = self.browser.all(f'tr[data-seq="{seq}"] td.message')
            if not cell:
                problems.append(f"no tr[data-seq={seq}] td.message on /alerts")
                continue
            holder = self.browser.js("""var td = arguments[0];
                return td.getAttribute('dir') === 'auto' ? td : (td.querySelector('[dir=auto]') || td);""", cell[0])
            dir_attribute = holder.get_attribute("dir")
            computed = self.browser.js("return getComputedStyle(arguments[0]).direction", holder)
            if dir_attribute != "auto":
                problems.append(f"the message of alert {seq} has dir={dir_attribute!r}, not auto")
            if computed != want:
                problems.append(f"the message of alert {seq} ({short(holder.text, 80)}) has computed direction "
                                f"{computed!r}, expected {want}")
        isolated = self.browser.js("""return Array.from(document.querySelectorAll(
              'tr[data-seq="' + arguments[0] + '"] td.message bdi')).map(function (b) {
              return [b.textContent, getComputedStyle(b).direction]; });""", rtl_seq)
        if not isolated or not isolated[0][0].startswith("الأمم") or any(d != "rtl" for _, d in isolated):
            problems.append(f"the Arabic of alert {rtl_seq}'s message is not isolated right to left: {isolated}")
        # the detail page: an Arabic narrative or message in a dir=auto element reads rtl
        seq = self.submitted["VB-IDL-1"][1]["alerts"][0]["seq"]
        self.browser.get(self.url(f"/alerts/{seq}"))
        arabic = self.browser.js("""return Array.from(document.querySelectorAll('[dir=auto]')).filter(function (e) {
              var t = e.textContent.trim(); return /^[\\u0600-\\u06ff]/.test(t) && !e.querySelector('bdi'); }).map(function (e) {
              return [e.tagName, getComputedStyle(e).direction, e.textContent.trim().slice(0, 40)]; });""")
        wrong = [a for a in arabic if a[1] != "rtl"]
        if wrong:
            problems.append(f"on /alerts/{seq}, dir=auto elements starting in Arabic that are not rtl: {wrong}")
        check(not problems, "; ".join(problems))

    # --- b. live
    def live(self):
        self.browser.get(self.url("/alerts"))
        self.browser.wait(lambda: says_live(self.browser.text("#live-status")), 20,
                          f"#live-status never said 'live' (it says {short(self.browser.all('#live-status')[0].text if self.browser.all('#live-status') else None)})")
        self.browser.js("window.__vigilMarker = 'not reloaded';")
        before = [r[0] for r in self.rows()]
        answer = self.submit([LIVE_REPORT])[0]
        seqs = [a["seq"] for a in answer["alerts"]]
        check(seqs, f"the live report raised no alert: {short(answer)}")
        try:
            self.browser.wait(lambda: all(self.browser.all(f'table#alerts tbody tr[data-seq="{s}"]') for s in seqs),
                              LIVE_DEADLINE_S, "")
        except Failure:
            raise Failure(f"alerts {seqs} of a report submitted over the socket did not appear on /alerts within "
                          f"{LIVE_DEADLINE_S}s (rows now {[r[0] for r in self.rows()][:8]}…, #live-status "
                          f"{short(self.browser.text('#live-status'))!r})")
        marker = self.browser.js("return window.__vigilMarker")
        check(marker == "not reloaded", "the page was reloaded (the marker put into window is gone)")
        # the incident time shows the clock with its offset (filters count UTC days), live as
        # on the server's page
        time_of = "return document.querySelector('tr[data-seq=\"' + arguments[0] + '\"] td.time').textContent.trim()"
        live_time = self.browser.js(time_of, str(seqs[0]))
        check(live_time == "2016-09-05 09:30 +03:00", f"the live row's incident time is {live_time!r}")
        rows = self.rows()
        top = [r[0] for r in rows[:len(seqs)]]
        check(top == sorted(seqs, reverse=True), f"the live rows are not at the top, newest first: top rows {top}, "
                                                 f"new alerts {seqs}")
        not_live = [r[0] for r in rows if r[0] in seqs and "live" not in (r[4] or "").split()]
        check(not not_live, f"inserted rows without class 'live': {not_live}")
        check([r[0] for r in rows[len(seqs):len(seqs) + len(before)]] == before,
              "the rows that were there are no longer below the new ones")
        self.browser.get(self.url("/alerts"))
        self.browser.js("window.__vigilMarker = 'not reloaded';")
        served_time = self.browser.js(time_of, str(seqs[0]))
        check(served_time == live_time, f"the server shows the incident time {served_time!r}, the live row {live_time!r}")
        # a hostile place in a live row is shown as the server's pages show it: overrides as
        # U+2423, control characters (an escape, a C1 NEL) as U+FFFD
        hostile = dict(LIVE_REPORT, id="VB-LIVE-H", occurred_at="2016-09-05T10:30:00+03:00",
                       location=dict(LIVE_REPORT["location"], place="Kafr\u202eZita\u0085\u001b[2K"))
        alerts = self.submit([hostile])[0]["alerts"]
        check(alerts, "the hostile live report raised no alert")
        self.browser.wait(lambda: all(self.browser.all(f'tr[data-seq="{a["seq"]}"]') for a in alerts),
                          LIVE_DEADLINE_S, f"the hostile report's alerts did not appear live within {LIVE_DEADLINE_S}s")
        shown = {r[0]: r[3] for r in self.rows()}
        for alert in alerts:
            want = as_displayed(alert["message"]).strip()
            check(shown.get(alert["seq"]) == want,
                  f"live row {alert['seq']} shows {shown.get(alert['seq'])!r}, not {want!r}")
            check("\u202e" not in (shown.get(alert["seq"]) or ""), f"live row {alert['seq']} holds a raw U+202E")
        # an Arabic place in a live row is isolated as the server's pages isolate it: the
        # sentence left to right, the place in a <bdi> right to left
        def live_message_cells(report, what):
            """Submits `report`; once its alerts show live, its first alert and the message
            cells of its row: [direction, the texts of its <bdi>s, its text]."""
            alerts = self.submit([report])[0]["alerts"]
            check(alerts, f"the {what} live report raised no alert")
            self.browser.wait(lambda: all(self.browser.all(f'tr[data-seq="{a["seq"]}"]') for a in alerts),
                              LIVE_DEADLINE_S, f"the {what} report's alerts did not appear live within {LIVE_DEADLINE_S}s")
            return alerts[0], self.browser.js("""return Array.from(document.querySelectorAll(
                  'tr[data-seq="' + arguments[0] + '"] td.message')).map(function (td) {
                  return [getComputedStyle(td).direction, Array.from(td.querySelectorAll('bdi')).map(function (b) {
                    return b.textContent; }), td.textContent]; });""", str(alerts[0]["seq"]))

        arabic = dict(LIVE_REPORT, id="VB-LIVE-AR", occurred_at="2016-09-05T11:30:00+03:00",
                      location=dict(LIVE_REPORT["location"], place="كفر زيتا"))
        first, live_cells = live_message_cells(arabic, "Arabic")
        check(live_cells and live_cells[0][0] == "ltr" and "كفر زيتا" in live_cells[0][1]
              and live_cells[0][2] == as_displayed(first["message"]).strip(),
              f"the live row of an Arabic place is not isolated as the server's: {live_cells}")
        # an English rule's message runs left to right however many Arabic letters a report
        # brings into it: its rule's words decide (message_direction), not the majority
        long_place = ("حي الوعر الجديد قرب المستشفى الوطني الكبير في مدينة حمص القديمة "
                      "خلف المدرسة الابتدائية الثانية وسوق الخضار المركزي")
        heavy = dict(LIVE_REPORT, id="VB-LIVE-AR2", occurred_at="2016-09-05T12:30:00+03:00",
                     location=dict(LIVE_REPORT["location"], place=long_place))
        _, heavy_cells = live_message_cells(heavy, "Arabic-heavy")
        check(heavy_cells and heavy_cells[0][0] == "ltr" and long_place in heavy_cells[0][1],
              f"the live row of an Arabic-heavy English message does not run left to right: {heavy_cells}")
        def besieged_isolates(report, what):
            """Submits `report`; once its access.besieged_area alert shows live, the texts of
            the <bdi>s of its message cell."""
            raised = [a for a in self.submit([report])[0]["alerts"] if a["rule"] == "access.besieged_area"]
            check(raised, f"the {what} live report raised no access.besieged_area alert")
            seq = str(raised[0]["seq"])
            self.browser.wait(lambda: self.browser.all(f'tr[data-seq="{seq}"]'), LIVE_DEADLINE_S,
                              f"the {what} report's alert did not appear live within {LIVE_DEADLINE_S}s")
            return self.browser.js("""return Array.from(document.querySelectorAll(
                  'tr[data-seq="' + arguments[0] + '"] td.message bdi')).map(function (b) { return b.textContent; });""", seq)

        # a rule's own bracket between two Arabic values stays outside their isolates (taken
        # into one, its "(" had no partner there and showed turned round)
        besieged = {"id": "VB-LIVE-AR3", "occurred_at": "2016-09-05T13:30:00+03:00", "type": "siege",
                    "location": {"place": "مضايا", "governorate": "ريف دمشق", "besieged": True}}
        isolates = besieged_isolates(besieged, "besieged")
        check(isolates == ["مضايا", "ريف دمشق"], f"the live row isolates {isolates}, not each Arabic value on its own")
        # a value's own brackets, paired, stay in its isolate
        bracketed = dict(besieged, id="VB-LIVE-AR4", location=dict(besieged["location"], place="مضايا (الزبداني)"))
        isolates = besieged_isolates(bracketed, "bracketed")
        check(isolates == ["مضايا (الزبداني)", "ريف دمشق"], f"the live row isolates {isolates}, not the value whole")
        # a filtered list does not take a live alert that does not match
        self.browser.get(self.url("/alerts", priority="medium"))
        self.browser.wait(lambda: says_live(self.browser.text("#live-status")), 20,
                          "#live-status never said 'live' on /alerts?priority=medium")
        self.browser.js("window.__vigilMarker = 'filtered';")
        report = dict(LIVE_REPORT, id="VB-LIVE-2", occurred_at="2016-09-06",
                      narrative="A second school hit, for the filtered list.")
        new = [a for a in self.submit([report])[0]["alerts"]]
        medium = [a["seq"] for a in new if a["priority"] == "medium"]
        other = [a["seq"] for a in new if a["priority"] != "medium"]
        # The sentinel: a medium alert submitted after it must arrive, so by then the
        # non-matching ones would have come too.
        sentinel = self.submit([dict(self.submitted["VB-ALP-1"][0], id="VB-LIVE-3", occurred_at="2016-08-10")])[0]
        sentinel_medium = [a["seq"] for a in sentinel["alerts"] if a["priority"] == "medium"]
        check(sentinel_medium, f"the sentinel report raised no medium alert: {short(sentinel)}")
        self.browser.wait(lambda: all(self.browser.all(f'tr[data-seq="{s}"]') for s in medium + sentinel_medium),
                          LIVE_DEADLINE_S, f"on /alerts?priority=medium the medium alerts {medium + sentinel_medium} "
                                           f"did not appear live within {LIVE_DEADLINE_S}s")
        shown_other = [s for s in other if self.browser.all(f'tr[data-seq="{s}"]')]
        check(not shown_other, f"/alerts?priority=medium took live alerts of other priorities: {shown_other}")
        check(self.browser.js("return window.__vigilMarker") == "filtered", "the filtered page was reloaded")
        # a gap event (more missed than a catch-up sends; the server's side is tested in
        # Swift) is told on the page, which has a hole in its list
        check(not self.browser.all("#live-gap"), "a gap notice before any gap")
        self.browser.js("window.__vigilTest.sources[window.__vigilTest.sources.length - 1].dispatchEvent("
                        "new MessageEvent('gap', {data: '{\"after\":5,\"before\":12000,\"skipped\":11000}'}))")
        notes = self.browser.all("#live-gap")
        check(len(notes) == 1 and "11000 older alerts (seq 6–11999)" in notes[0].text and "reload" in notes[0].text,
              f"the gap is not told on the page: {[n.text for n in notes]}")
        check(self.browser.js("return window.__vigilMarker") == "filtered", "the gap reloaded the page")
        # a gap of records older than the index holds has no count: the page says so
        self.browser.js("window.__vigilTest.sources[window.__vigilTest.sources.length - 1].dispatchEvent("
                        "new MessageEvent('gap', {data: '{\"after\":5,\"before\":12000,\"skipped\":null}'}))")
        notes = self.browser.all("#live-gap")
        check(len(notes) == 1 and "(seq 6–11999)" in notes[0].text and "older than the console keeps" in notes[0].text,
              f"the uncounted gap is not told on the page: {[n.text for n in notes]}")
        # a stream refused for good (the log replaced since the page loaded, so its newest is
        # past the log's): the browser would not try again, so the page loads afresh
        self.browser.js("var s = window.__vigilTest.sources[window.__vigilTest.sources.length - 1];"
                        "s.close(); s.dispatchEvent(new Event('error'));")
        self.browser.wait(lambda: self.browser.js("return window.__vigilMarker") != "filtered", 30,
                          "the page was not loaded afresh after its stream was refused for good")

    # --- e. hostile reports
    def hostile(self):
        reports = hostile_reports()
        answers = self.submit(reports)
        for report, answer in zip(reports, answers):
            check(answer["alerts"], f"hostile report {report['id']} raised no alert, so no page shows it: {short(answer)}")
        problems = []
        ran = []  # signs that a hostile string ran or reached the page as markup
        pages = [("/alerts", self.url("/alerts", limit=500))]
        for report, answer in zip(reports, answers):
            seq = answer["alerts"][0]["seq"]
            pages.append((f"/alerts/{seq} ({report['id']})", self.url(f"/alerts/{seq}")))
        pages.append(("/alerts?q=<script>", self.url("/alerts", q=PWN_SCRIPT, rule=PWN_IMG, governorate=PWN_URL)))
        pages.append(("/", self.url("/")))
        for label, url in pages:
            self.browser.get(url)
            time.sleep(0.5)  # let an onerror (of an image that failed) run, if one would
            state = self.browser.js("""return {pwned: typeof window.__pwned, hooks: window.__vigilTest,
                scripts: Array.from(document.scripts).map(function (s) { return s.getAttribute('src') || ('inline: ' + s.textContent.slice(0, 60)); }),
                injected: document.querySelectorAll('img[src="x"], img[onerror], svg[onload], [onmouseover]').length,
                jsLinks: Array.from(document.querySelectorAll('a[href]')).filter(function (a) {
                  return /^\\s*javascript:/i.test(a.getAttribute('href')); }).length};""")
            if state["pwned"] != "undefined":
                ran.append(f"{label}: window.__pwned is set: a hostile string ran as script")
            hooks = state["hooks"]
            if not isinstance(hooks, dict):
                ran.append(f"{label}: the test's hooks (window.alert, securitypolicyviolation) were not installed")
                hooks = {}
            if hooks.get("alerts"):
                ran.append(f"{label}: window.alert was called: {hooks['alerts']}")
            if hooks.get("csp"):
                ran.append(f"{label}: securitypolicyviolation events (markup from a report reached the page "
                           f"as HTML): {hooks['csp'][:4]}")
            if hooks.get("errors"):
                ran.append(f"{label}: script errors: {hooks['errors'][:4]}")
            scripts = [s for s in state["scripts"] if s != "/assets/console.js"]
            if scripts:
                ran.append(f"{label}: scripts other than /assets/console.js: {scripts[:4]}")
            if state["injected"]:
                ran.append(f"{label}: {state['injected']} injected element(s) (img[src=x], [onerror], svg[onload])")
            if state["jsLinks"]:
                ran.append(f"{label}: {state['jsLinks']} link(s) with a javascript: href")
            severe = [entry["message"] for entry in self.browser.logs()
                      if entry.get("level") == "SEVERE" and "favicon.ico" not in entry.get("message", "")]
            if severe:
                ran.append(f"{label}: console errors: {[short(m, 200) for m in severe[:4]]}")
            if label == "/alerts":
                messages = " ".join(r[3] or "" for r in self.rows())
                for hostile in (PWN_SCRIPT, PWN_IMG):
                    if hostile not in messages:
                        problems.append(f"/alerts: no td.message holds {hostile!r} as text")
                element_texts = " ".join(e.text for e in self.browser.all("table#alerts td.message"))
                if "<script>" not in element_texts:
                    problems.append("/alerts: element.text of no td.message contains '<script>'")
            elif label.startswith("/alerts/"):
                report = next(r for r in reports if r["id"] in label)
                seq = int(label.split("/")[2].split()[0])
                line = self.records()[seq][1]
                try:
                    shown_line = self.browser.text("#record pre").strip()
                    if shown_line not in (line, as_displayed(line)):
                        problems.append(f"{label}: #record pre is not the log's exact line (nor the line with "
                                        f"bidi controls shown as U+2423): {line_difference(shown_line, as_displayed(line))}")
                except Failure as error:
                    problems.append(f"{label}: {error}")
                problems += self.api_alert_problems(seq, report, self.records()[seq][0], line)
                try:
                    text = self.browser.text("#report pre")
                    shown = json.loads(text)
                    if not same_report(shown, report):
                        problems.append(f"{label}: #report pre parses to another report than submitted (bidi controls "
                                        f"shown as U+2423 allowed): {json_difference(shown, displayed_value(report))}")
                    if "<script>" in json.dumps(report) and "<script>" not in self.browser.one("#report pre").text:
                        problems.append(f"{label}: #report pre's element.text has no '<script>'")
                    if report["id"] == "VB-BIG-1" and len(text) < len(report["narrative"]):
                        problems.append(f"{label}: #report pre holds {len(text)} characters, fewer than the 64 KiB "
                                        f"narrative's {len(report['narrative'])}")
                except (Failure, ValueError) as error:
                    problems.append(f"{label}: #report pre: {error}")
        # A canary: an inline script put into the real page is blocked by its CSP, and the
        # hooks see the violation, so that the checks above could see one.
        self.browser.get(self.url("/alerts"))
        canary = self.browser.js("""var s = document.createElement('script'); s.textContent = 'window.__canary = 1';
            document.body.appendChild(s); return typeof window.__canary;""")
        time.sleep(0.3)
        seen = self.browser.js("return window.__vigilTest ? window.__vigilTest.csp.length : -1")
        if canary != "undefined" or seen < 1:
            ran.append(f"canary: an inline script added to /alerts ran ({canary != 'undefined'}) or no "
                       f"securitypolicyviolation was seen ({seen}): the CSP does not block inline scripts, or "
                       f"the test's hooks cannot see it")
        self.browser.logs()
        status, headers, body = request(self.port, "GET", "/api/alerts?q=" + urllib.parse.quote(PWN_SCRIPT))
        if status != 200 or "application/json" not in ";".join(headers.get("content-type", [])):
            problems.append(f"GET /api/alerts?q=<script>: status {status}, content-type {headers.get('content-type')}")
        # One report's unbroken text wraps in its own cells: the other rows keep a message
        # column wide enough to read, and the table stays within the page.
        self.browser.viewport(1280, 900)
        self.browser.get(self.url("/alerts", limit=500))
        layout = self.browser.js("""var table = document.querySelector('table#alerts');
            var rows = Array.from(table.querySelectorAll('tbody tr'));
            var narrowest = Math.min.apply(null, rows.map(function (r) {
              var m = r.querySelector('td.message'); return m ? m.getBoundingClientRect().width : 1e9; }));
            var widestRegion = Math.max.apply(null, rows.map(function (r) {
              var g = r.querySelector('td.governorate'); return g ? g.getBoundingClientRect().width : 0; }));
            var priorities = Array.from(table.querySelectorAll('td.priority')).filter(function (td) {
              var range = document.createRange(); range.selectNodeContents(td);
              return range.getClientRects().length > 1; }).length;
            return {table: table.getBoundingClientRect().width, page: document.documentElement.clientWidth,
                    narrowest: narrowest, widestRegion: widestRegion, wrappedPriorities: priorities};""")
        if layout["narrowest"] < 300 or layout["widestRegion"] > 300 or layout["table"] > layout["page"]:
            problems.append(f"/alerts at 1280 px with a 4,000-letter governorate: the narrowest message cell is "
                            f"{layout['narrowest']:.0f} px, the widest governorate cell {layout['widestRegion']:.0f} px, "
                            f"the table {layout['table']:.0f} px in a page of {layout['page']} px")
        if layout["wrappedPriorities"]:
            problems.append(f"/alerts: {layout['wrappedPriorities']} priority cell(s) wrap their word")
        if ran:
            check(False, "; ".join(ran + problems))
        check(not problems, f"no script ran and no markup got in on the {len(pages)} pages (window.__pwned unset, "
                            f"no alert(), no CSP violation, no console error), but: " + "; ".join(problems))

    # --- h. methods and headers
    def methods_and_headers(self):
        problems = []
        seq = self.alerts[0]["seq"]
        for method, path in (("POST", "/api/status"), ("PUT", "/api/alerts"), ("DELETE", f"/api/alerts/{seq}"),
                             ("POST", "/alerts"), ("PATCH", "/")):
            status, headers, _ = request(self.port, method, path, body=b"{}", headers={"Content-Type": "application/json"})
            if status != 405:
                problems.append(f"{method} {path}: status {status}, expected 405")
            problems += header_problems(f"{method} {path}", headers)
        for path, want in (("/", 200), ("/alerts", 200), (f"/alerts/{seq}", 200), ("/rules", 200), ("/health", 200),
                           ("/api/status", 200), ("/api/rules", 200), ("/api/overview?days=7", 200),
                           ("/api/alerts", 200), (f"/api/alerts/{seq}", 200), ("/metrics", 200),
                           ("/assets/console.js", 200), ("/assets/console.css", 200), ("/no-such-page", 404)):
            status, headers, body = request(self.port, "GET", path)
            if status != want:
                problems.append(f"GET {path}: status {status}, expected {want}")
            problems += header_problems(f"GET {path}", headers)
            if path == "/api/status" and status == 200:
                try:
                    answer = json.loads(body)
                    if "counters" not in answer or "ruleset" not in answer:
                        problems.append(f"GET /api/status is not what `vigil status` says: {short(body)}")
                except ValueError:
                    problems.append(f"GET /api/status is not JSON: {short(body)}")
            if path == "/metrics" and status == 200 and b"# TYPE" not in body:
                problems.append(f"GET /metrics is not Prometheus text: {short(body)}")
        status, headers, body = request(self.port, "HEAD", "/alerts")
        if status != 200 or body:
            problems.append(f"HEAD /alerts: status {status}, {len(body)} body bytes")
        problems += header_problems("HEAD /alerts", headers)
        # the event stream: headers, and one line of the alert log per event
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            connection.request("GET", "/api/events")
            response = connection.getresponse()
            kind = response.getheader("Content-Type") or ""
            if response.status != 200 or "text/event-stream" not in kind:
                problems.append(f"GET /api/events: status {response.status}, content-type {kind!r}")
            else:
                report = dict(LIVE_REPORT, id="VB-SSE-1", occurred_at="2016-09-07")
                alerts = self.submit([report])[0]["alerts"]
                records = self.records()
                deadline = time.monotonic() + LIVE_DEADLINE_S
                seen = []
                while time.monotonic() < deadline and len(seen) < len(alerts):
                    line = response.fp.readline().decode("utf-8").rstrip("\r\n")
                    if line.startswith("data:"):
                        seen.append(line[5:].lstrip(" "))
                want = [records[a["seq"]][1] for a in alerts]
                if len(seen) != len(want):
                    problems.append(f"/api/events sent {len(seen)} data: lines within {LIVE_DEADLINE_S}s for "
                                    f"{len(want)} new alerts")
                for got, line in zip(seen, want):
                    if got != line and not is_line_with_region(got, line):
                        problems.append(f"/api/events: data: is neither the alert log's line nor the line with "
                                        f"region and region_key put first: {line_difference(got, line)}")
                        break
            connection.close()
        except OSError as error:
            problems.append(f"GET /api/events: {error}")
        check(not problems, "; ".join(problems))

    # --- g. listening beyond loopback, and the token
    def tokens(self):
        problems = []
        # a second daemon on 0.0.0.0 without a token file must not start
        second_dir = os.path.join(self.directory, "second")
        os.makedirs(second_dir)
        port = free_port("0.0.0.0")
        second = Daemon("vigild-open", self.arguments.vigild, [
            "--socket", os.path.join(second_dir, "s.sock"), "--rules", self.arguments.rules,
            "--state-dir", os.path.join(second_dir, "state"), "--alert-log", os.path.join(second_dir, "alerts.jsonl"),
            "--http", f"0.0.0.0:{port}"], second_dir)
        try:
            second.process.wait(60)
        except subprocess.TimeoutExpired:
            pass
        if second.running():
            problems.append(f"vigild --http 0.0.0.0:{port} without a token file is still running after 60 s "
                            f"(it must exit 1 at start); log: {short(second.log(), 400)}")
        elif second.process.returncode != 1 or "token" not in second.log():
            problems.append(f"vigild --http 0.0.0.0:{port} without a token file exited {second.process.returncode} "
                            f"(expected 1, with 'token' on stderr): {short(second.log(), 600)}")
        second.stop()
        # a third with http.token_file in its configuration
        third_dir = os.path.join(self.directory, "third")
        os.makedirs(third_dir)
        token = "vb-" + os.urandom(18).hex()
        token_file = os.path.join(third_dir, "console.token")
        with open(token_file, "w") as file:
            file.write(token + "\n")
        os.chmod(token_file, 0o600)
        port = free_port()
        config = os.path.join(third_dir, "vigild.yaml")
        with open(config, "w") as file:
            file.write(f'http:\n  listen: "127.0.0.1:{port}"\n  token_file: {json.dumps(token_file)}\n')
        os.chmod(config, 0o600)
        socket_path = os.path.join(third_dir, "s.sock")
        arguments = ["--config", config, "--socket", socket_path, "--rules", self.arguments.rules,
                     "--state-dir", os.path.join(third_dir, "state"),
                     "--alert-log", os.path.join(third_dir, "alerts.jsonl")]
        third = Daemon("vigild-token", self.arguments.vigild, arguments, third_dir)
        try:
            wait_for_socket(third, socket_path)
            try:
                wait_for_http(third, port, deadline_s=20)
            except Failure:
                # Say so, then go on with the address given by --http too, to check the token.
                problems.append(f"http.listen in the --config file is not used: nothing answers on 127.0.0.1:{port} "
                                f"20 s after the socket was ready; vigild's log: "
                                f"{short(' | '.join(third.log().splitlines()[:2]), 400)}")
                third.stop()
                port = free_port()
                third = Daemon("vigild-token-flag", self.arguments.vigild,
                               arguments + ["--http", f"127.0.0.1:{port}"], third_dir)
                wait_for_socket(third, socket_path)
                wait_for_http(third, port)
            checks = [("no token", {}, 401), ("a wrong token", {"Authorization": "Bearer wrong-" + token}, 401),
                      ("Authorization: Bearer", {"Authorization": "Bearer " + token}, 200)]
            for label, headers, want in checks:
                status, response_headers, _ = request(port, "GET", "/api/status", headers=headers)
                if status != want:
                    problems.append(f"token daemon: GET /api/status with {label}: status {status}, expected {want}")
                problems += header_problems(f"token daemon: GET /api/status with {label}", response_headers)
            for path in ("/", "/alerts", "/api/alerts", "/api/events", "/metrics"):
                status, _, _ = request(port, "GET", path, timeout=10)
                if status != 401:
                    problems.append(f"token daemon: GET {path} without the token: status {status}, expected 401")
            status, headers, _ = request(port, "POST", "/login", body=urllib.parse.urlencode({"token": "wrong"}).encode(),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            if headers.get("set-cookie"):
                problems.append(f"token daemon: POST /login with a wrong token set a cookie (status {status})")
            # the browser: the login form lets it in
            base = f"http://127.0.0.1:{port}"
            self.browser.driver.delete_all_cookies()
            self.browser.get(base + "/login")
            field = self.browser.all('form input[name="token"]')
            if not field:
                problems.append(f"token daemon: /login has no form input[name=token] ({short(self.browser.driver.page_source, 300)})")
            else:
                form = self.browser.js("return arguments[0].form", field[0])
                method = (form.get_attribute("method") or "get").lower()
                if method != "post":
                    problems.append(f"token daemon: the login form's method is {method!r}, not post")
                field[0].send_keys(token)
                form.submit()
                time.sleep(1)
                self.browser.get(base + "/health")
                if not self.browser.all("#node"):
                    problems.append(f"token daemon: after the login form, /health shows no #node "
                                    f"({short(self.browser.driver.find_element(self.browser.By.TAG_NAME, 'body').text, 200)})")
                cookies = self.browser.driver.get_cookies()
                if not cookies:
                    problems.append("token daemon: the login set no cookie")
                elif not all(c.get("httpOnly") for c in cookies):
                    problems.append(f"token daemon: the login cookie is not HttpOnly: {cookies}")
                self.browser.driver.delete_all_cookies()
                self.browser.get(base + "/health")
                if self.browser.all("#node"):
                    problems.append("token daemon: /health shows #node without the cookie")
                # a page asked for without the cookie: its sign-in link comes back to it
                wanted = "/alerts?priority=critical&rule=access.*"
                self.browser.get(base + wanted)
                links = self.browser.all('a[href^="/login"]')
                if not links:
                    problems.append(f"token daemon: {wanted} without the cookie shows no sign-in link")
                else:
                    links[0].click()
                    time.sleep(0.5)
                    field = self.browser.all('form input[name="token"]')
                    if not field:
                        problems.append("token daemon: the 401 page's link led to no sign-in form")
                    else:
                        field[0].send_keys(token)
                        self.browser.js("return arguments[0].form", field[0]).submit()
                        time.sleep(1)
                        landed = urllib.parse.urlsplit(self.browser.driver.current_url)
                        if (landed.path, urllib.parse.parse_qsl(landed.query)) != ("/alerts", [("priority", "critical"), ("rule", "access.*")]):
                            problems.append(f"token daemon: signing in from {wanted} landed on {self.browser.driver.current_url}")
                    self.browser.driver.delete_all_cookies()
        except Failure as failure:
            problems.append(str(failure))
        finally:
            third.stop()
        check(not problems, "; ".join(problems))

    # --- the other pages
    def pages(self):
        problems = []
        rules = exchange(self.socket, [{"op": "rules"}])[0]["rules"]
        status = exchange(self.socket, [{"op": "status"}])[0]
        self.browser.get(self.url("/rules"))
        revision = self.browser.text("#revision").strip()
        if status["ruleset"]["revision"] not in revision:
            problems.append(f"#revision is {revision!r}, the rule set in force is {status['ruleset']['revision']}")
        shown = self.browser.js("""return Array.from(document.querySelectorAll('table#rules tbody tr[data-rule]')).map(
            function (tr) { function c(n) { var td = tr.querySelector('td.' + n); return td ? td.textContent.trim() : null; }
              return [tr.getAttribute('data-rule'), c('file'), c('priority'), c('examples')]; });""")
        if [r[0] for r in shown] != [r["id"] for r in rules]:
            problems.append(f"table#rules lists {[r[0] for r in shown]}, the socket's rules are {[r['id'] for r in rules]}")
        for rule, (_, file, priority, examples) in zip(rules, shown):
            where = f"{os.path.basename(rule['file'])}:{rule['line']}"
            if file is None or where not in file or priority != rule["priority"] or examples is None:
                problems.append(f"tr[data-rule={rule['id']}]: td.file {file!r} (want …{where}), td.priority {priority!r} "
                                f"(want {rule['priority']}), td.examples {examples!r}")
                break
        reload = self.browser.all('#last-reload[data-ok="true"]')
        if not reload:
            problems.append("no #last-reload[data-ok=\"true\"] after a clean start")
        self.browser.get(self.url("/health"))
        for selector in ("#node", "#uptime", "#sinks", "#sources", "#console-listen"):
            if not self.browser.all(selector):
                problems.append(f"/health has no {selector}")
        if self.browser.all("#node") and self.browser.text("#node").strip() != status["node"]:
            problems.append(f"#node is {self.browser.text('#node').strip()!r}, status says {status['node']!r}")
        if self.browser.all("#console-listen") and f"127.0.0.1:{self.port}" not in self.browser.text("#console-listen"):
            problems.append(f"#console-listen is {self.browser.text('#console-listen').strip()!r}, "
                            f"vigild listens on 127.0.0.1:{self.port}")
        for path in ("/alerts", "/rules", "/health"):
            self.browser.get(self.url(path))
            for href in ("/", "/alerts", "/rules", "/health"):
                if not self.browser.all(f'nav a[href="{href}"]'):
                    problems.append(f'{path} has no nav a[href="{href}"]')
        # every page reads on a phone: nothing wider than its screen (a long revision wraps)
        self.browser.viewport(390, 844, mobile=True)
        try:
            for path in ("/", "/alerts", f"/alerts/{self.alerts[0]['seq']}", "/rules", "/health"):
                self.browser.get(self.url(path))
                width = self.browser.js("return document.documentElement.scrollWidth")
                if width > 390:
                    problems.append(f"{path} is {width} px wide on a 390 px phone screen")
        finally:
            self.browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        check(not problems, "; ".join(problems))

    def screenshots(self, directory):
        os.makedirs(directory, exist_ok=True)
        # A fuller picture than the test's few reports: the standard workload generator's.
        generator = next((g for g in (os.path.join(os.environ.get("SHARED", ""), "tools/gen_reports.py"),
                                      os.path.join(ROOT, "..", "shared", "tools", "gen_reports.py"),
                                      "/work/shared/tools/gen_reports.py") if os.path.isfile(g)), None)
        check(generator is not None, "cannot find the shared tools/gen_reports.py (set SHARED)")
        lines = subprocess.run([sys.executable, generator, "600", "7"], check=True, capture_output=True,
                               text=True).stdout.splitlines()
        self.submit([json.loads(line) for line in lines if line.strip()])
        seq = self.submitted["VB-IDL-1"][1]["alerts"][0]["seq"]
        shots = [("overview.png", "/"), ("alerts.png", "/alerts"), ("alert.png", f"/alerts/{seq}"),
                 ("rules.png", "/rules"), ("health.png", "/health")]
        self.browser.viewport(1280, 900)
        for name, path in shots:
            self.browser.get(self.url(path))
            time.sleep(1)
            check(self.browser.driver.save_screenshot(os.path.join(directory, name)), f"could not save {name}")
        self.browser.viewport(390, 844, mobile=True)
        try:
            self.browser.get(self.url("/alerts"))
            time.sleep(1)
            check(self.browser.driver.save_screenshot(os.path.join(directory, "phone-alerts.png")),
                  "could not save phone-alerts.png")
        finally:
            self.browser.viewport(1280, 900)
        print(f"screenshots in {directory}: {', '.join(n for n, _ in shots)}, phone-alerts.png", flush=True)

    def cleanup(self):
        if self.browser:
            self.browser.quit()
        for daemon in started:
            was_running = daemon.running()
            try:
                status = daemon.stop()
            except Exception as error:
                print(f"note: stopping {daemon.name} (pid {daemon.process.pid}): {error}", flush=True)
                continue
            if was_running and daemon is getattr(self, "daemon", None) and status != 0:
                print(f"note: {daemon.name} exited {status} on SIGTERM; its log ends: {daemon.log()[-1500:]}",
                      flush=True)
        shutil.rmtree(self.directory, ignore_errors=True)


BIDI_CONTROLS = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))


def as_displayed(text):
    """Text as docs/console.md ("Hostile reports") says the console shows it: bidirectional
    override and isolate characters as U+2423, other control characters as U+FFFD."""
    shown = []
    for character in text:
        code = ord(character)
        if code in BIDI_CONTROLS:
            shown.append("\u2423")
        elif (code < 0x20 and character not in "\n\t") or 0x7F <= code < 0xA0:
            shown.append("\ufffd")
        else:
            shown.append(character)
    return "".join(shown)


def displayed_value(value):
    """A JSON value with as_displayed applied to every string in it (keys too)."""
    if isinstance(value, dict):
        return {as_displayed(k): displayed_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [displayed_value(v) for v in value]
    return as_displayed(value) if isinstance(value, str) else value


def same_report(shown, report):
    """Whether shown JSON is the report: exactly (bidi controls kept, or written as \\u202e
    escapes), or with the documented display substitutions."""
    return shown == report or shown == displayed_value(report)


def line_difference(shown, line):
    """Where a shown line first departs from the log's line, for a failure message."""
    at = next((i for i, (a, b) in enumerate(zip(shown, line)) if a != b), min(len(shown), len(line)))
    return (f"from character {at} it reads {ascii(shown[max(0, at - 8):at + 40])}, the line "
            f"{ascii(line[max(0, at - 8):at + 40])} ({len(shown)} and {len(line)} characters)")


def is_line_with_region(data, line):
    """docs/console.md: /api/events' data is the record as /api/alerts gives it, the log's
    line with "region", "region_key" and "message_direction" put first; the line itself
    must follow them."""
    try:
        record = json.loads(data)
    except ValueError:
        return False
    if list(record)[:3] != ["region", "region_key", "message_direction"]:
        return False
    prefix = "{" + json.dumps({"region": record["region"], "region_key": record["region_key"],
                               "message_direction": record["message_direction"]},
                              ensure_ascii=False, separators=(",", ":"))[1:-1] + ","
    return data.startswith(prefix) and "{" + data[len(prefix):] == line


def says_live(text):
    """#live-status once the EventSource is connected (not "not live", "reconnecting")."""
    text = text.lower()
    return "live" in text and "not live" not in text


def incident_day(occurred_at):
    """The UTC day of an incident time (a date alone is that day)."""
    if len(occurred_at) == 10:
        return occurred_at
    moment = datetime.datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
    return moment.astimezone(datetime.timezone.utc).date().isoformat()


def json_difference(shown, wanted, path="$"):
    """Where two JSON values first differ, for a failure message."""
    if isinstance(shown, dict) and isinstance(wanted, dict):
        for key in sorted(set(shown) | set(wanted)):
            if key not in shown:
                return f"{path}.{key} missing"
            if key not in wanted:
                return f"{path}.{key} is extra"
            found = json_difference(shown[key], wanted[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(shown, list) and isinstance(wanted, list) and len(shown) == len(wanted):
        for index, (a, b) in enumerate(zip(shown, wanted)):
            found = json_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    if shown != wanted:
        return f"{path} is {short(ascii(shown), 120)}, submitted {short(ascii(wanted), 120)}"
    return None


def header_problems(label, headers):
    problems = []
    csp = "; ".join(headers.get("content-security-policy", []))
    if not csp:
        problems.append(f"{label}: no Content-Security-Policy header")
    else:
        directives = {}
        for part in csp.split(";"):
            words = part.split()
            if words:
                directives.setdefault(words[0].lower(), words[1:])
        scripts = directives.get("script-src", directives.get("default-src"))
        if scripts is None:
            problems.append(f"{label}: the CSP restricts no scripts (neither script-src nor default-src): {csp}")
        elif "'unsafe-inline'" in [w.lower() for w in scripts] or "*" in scripts:
            problems.append(f"{label}: the CSP allows inline scripts: {csp}")
    if [v.lower() for v in headers.get("x-content-type-options", [])] != ["nosniff"]:
        problems.append(f"{label}: X-Content-Type-Options is {headers.get('x-content-type-options')}, not nosniff")
    if [v.upper() for v in headers.get("x-frame-options", [])] != ["DENY"]:
        problems.append(f"{label}: X-Frame-Options is {headers.get('x-frame-options')}, not DENY")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vigild", default=os.path.join(ROOT, ".build/debug/vigild"),
                        help="the vigild to test (default: .build/debug/vigild of this checkout)")
    parser.add_argument("--rules", default=os.path.join(ROOT, "Rules"), help="the rules directory (default: Rules)")
    parser.add_argument("--screenshots", metavar="DIR",
                        help="also save overview/alerts/alert/rules/health.png (1280x900) and phone-alerts.png (390x844)")
    parser.add_argument("--harness-only", action="store_true",
                        help="start vigild without its console, submit the reports and start Chromium, then stop "
                             "(checks the test's own machinery)")
    arguments = parser.parse_args()
    arguments.vigild = os.path.abspath(arguments.vigild)
    arguments.rules = os.path.abspath(arguments.rules)
    if arguments.screenshots:
        arguments.screenshots = os.path.abspath(arguments.screenshots)

    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    selenium = import_selenium()
    if selenium is None:
        missing.append("the selenium Python module")
    if missing:
        print(f"FAIL setup: missing {', '.join(missing)}: {INSTALL_HINT}", flush=True)
        return 2
    if not os.access(arguments.vigild, os.X_OK):
        print(f"FAIL setup: no vigild at {arguments.vigild} (swift build --product vigild)", flush=True)
        return 2

    # SIGTERM (a test runner's timeout) ends the run through the clean-up below.
    def terminate(number, frame):
        raise KeyboardInterrupt(f"signal {number}")
    signal.signal(signal.SIGTERM, terminate)

    run = Run(arguments, selenium)
    try:
        try:
            run.start(console=not arguments.harness_only)
            reports, regions = build_reports()
            run.submit(reports)
            by_priority = collections.Counter(a["priority"] for a in run.alerts)
            print(f"submitted {len(reports)} reports: {len(run.alerts)} alerts ({dict(by_priority)}), "
                  f"seqs {min(a['seq'] for a in run.alerts)}–{max(a['seq'] for a in run.alerts)}", flush=True)
            check(len(by_priority) >= 3, f"the known reports raised too few priorities: {dict(by_priority)}")
            run.browser = Browser(selenium)
        except Failure as failure:
            print(f"FAIL setup: {failure}", flush=True)
            return 2
        if arguments.harness_only:
            case("harness: socket counts, Chromium, page hooks", run.harness)
        else:
            run_cases(run, arguments, regions)
    except KeyboardInterrupt as interrupt:
        print(f"FAIL interrupted ({interrupt}): stopping the daemons", flush=True)
        results.append(("interrupted", False))
    finally:
        run.cleanup()
    failed = [name for name, ok in results if not ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed" + (f": {'; '.join(failed)}" if failed else ""),
          flush=True)
    return 1 if failed else 0


def run_cases(run, arguments, regions):
    case("a. overview counts match the socket's answers", run.overview_counts)
    case("a. overview chart, top rules and map", lambda: run.overview_charts(regions))
    case("c. filters narrow the list", run.filters)
    case("d. detail page: record, report, basis, chain", run.detail)
    case("f. Arabic text renders right-to-left", run.direction)
    case("rules and health pages", run.pages)
    if arguments.screenshots:
        case("screenshots", lambda: run.screenshots(arguments.screenshots))
    case("b. a submitted report appears live on /alerts", run.live)
    case("e. hostile reports run no script", run.hostile)
    case("a. overview counts after the live and hostile reports", run.overview_counts)
    case("h. methods, headers and the event stream", run.methods_and_headers)
    case("g. non-loopback needs a token; the token and the login", run.tokens)


if __name__ == "__main__":
    sys.exit(main())
