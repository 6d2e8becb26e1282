#!/usr/bin/env python3
"""Sends a file of reports down one connection to vigild and reads every answer.
usage: bench/feed.py SOCKET FILE  -> prints "<reports> <seconds> <reports/s> <pattern alerts> <late>"
"""
import socket, sys, threading, time

path, file = sys.argv[1], sys.argv[2]
data = open(file, "rb").read()
expected = data.count(b"\n")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
start = time.monotonic()

def send():
    sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)

threading.Thread(target=send, daemon=True).start()
answers = patterns = late = 0
buffer = b""
while True:
    chunk = sock.recv(1 << 20)
    if not chunk:
        break
    buffer += chunk
    *lines, buffer = buffer.split(b"\n")
    for line in lines:
        answers += 1
        patterns += line.count(b'"rule":"patterns.')
        late += b"does not count toward patterns" in line
elapsed = time.monotonic() - start
if answers != expected:
    sys.exit(f"bench/feed.py: {answers} answers to {expected} reports")
print(f"{answers} {elapsed:.3f} {answers / elapsed:.0f} {patterns} {late}")
