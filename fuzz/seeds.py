#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/run): reports from the standard
workload generator, the conditions of the shipped rules, the shipped rule files; plus the
inputs kept under fuzz/regressions/. usage: fuzz/seeds.py OUT_DIR SHARED_DIR"""
import glob, os, re, subprocess, sys

out, shared = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


reports = subprocess.run(
    ["python3", os.path.join(shared, "tools", "gen_reports.py"), "300", "11"],
    check=True, capture_output=True).stdout.splitlines()
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
        with open(path, "rb") as f:
            write(target, "regression-" + os.path.basename(path), f.read())
