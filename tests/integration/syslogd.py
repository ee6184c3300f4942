# syslogd.py SOCKET OUT: a minimal syslog daemon for tests: binds a Unix
# datagram socket at SOCKET and appends each datagram it receives to OUT
# as one line, until killed.
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "ab", buffering=0) as f:
    f.write(b"")
    while True:
        d = s.recv(65536)
        f.write(d.rstrip(b"\n") + b"\n")
