#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/run): reports from the standard
workload generator, the conditions of the shipped rules, the shipped rule files; plus the
inputs kept under fuzz/regressions/. usage: fuzz/seeds.py OUT_DIR SHARED_DIR
The generator is looked for in SHARED_DIR/tools, then in a `shared/tools` beside any
directory above the repository; without it, a few built-in reports stand in."""
import glob, os, re, subprocess, sys

out, shared = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


BUILT_IN = [
    b'{"id":"B-1","type":"attack","occurred_at":"2016-03-05T09:40:00+02:00","source":{"org":"SNHR","kind":"ngo"},'
    b'"location":{"governorate":"Idlib","place":"\u0645\u0639\u0631\u0629","populated":true},"perpetrator":{"party":"government"},'
    b'"target":{"type":"market"},"weapons":["barrel_bomb"],"casualties":{"killed":9,"civilians_killed":9}}',
    b'{"id":"B-2","type":"access","occurred_at":"2016-03-02T12:00:00Z","source":{"org":"OCHA","kind":"un"},'
    b'"location":{"governorate":"Rif Dimashq","besieged":true},"access":{"requested_by":"WFP","status":"denied"}}',
    b'{"id":"B-3","type":"trade","occurred_at":"2015-12-01T00:00:00Z","source":{"org":"UNESCO","kind":"un"},'
    b'"location":{"governorate":"Deir ez-Zor"},"trade":{"commodity":"oil","seller":{"party":"isil"}}}',
]


def generator():
    candidates = [os.path.join(shared, "tools", "gen_reports.py")]
    parent = root
    while os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
        candidates.append(os.path.join(parent, "shared", "tools", "gen_reports.py"))
    return next((path for path in candidates if os.path.isfile(path)), None)


found = generator()
if found:
    reports = subprocess.run(["python3", found, "300", "11"], check=True, capture_output=True).stdout.splitlines()
else:
    print("fuzz/seeds.py: no gen_reports.py found; built-in reports only", file=sys.stderr)
    reports = BUILT_IN
for index, line in enumerate(reports):
    write("fuzz-report", f"generated-{index:03}", line)
for index, request in enumerate([b'{"op":"ping"}', b'{"op":"status"}', b'{"op":"check","report":' + reports[0] + b'}',
                                 b'{"op":"submit","report":' + reports[1] + b'}',
                                 b'{"op":"subscribe","min_priority":"high","rules":["ceasefire.*"],"tags":["x"]}']):
    write("fuzz-report", f"request-{index}", request)

rule_files = sorted(glob.glob(os.path.join(root, "Rules", "*.yaml")))
conditions = []
for path in rule_files:
    with open(path, "rb") as f:
        text = f.read()
    write("fuzz-rules", os.path.basename(path), text)
    try:
        import yaml
        items = yaml.safe_load(text) or []
        conditions += [item["condition"] for item in items if isinstance(item, dict) and "condition" in item]
    except ImportError:  # one-line conditions only
        conditions += re.findall(r"^\s*condition: (?!>)(.+)$", text.decode(), re.M)
with open(os.path.join(root, "Config", "vigild.yaml"), "rb") as f:
    write("fuzz-rules", "vigild.yaml", f.read())
for index, condition in enumerate(conditions):
    write("fuzz-condition", f"shipped-{index:03}", condition.encode())

for target in ("fuzz-report", "fuzz-condition", "fuzz-rules"):
    for path in glob.glob(os.path.join(root, "fuzz", "regressions", target, "*")):
        if os.path.basename(path) == "README.md":
            continue
        with open(path, "rb") as f:
            write(target, "regression-" + os.path.basename(path), f.read())
