#!/usr/bin/env python3
"""A tiny hand-written 9P2000.L client for Captures/make-samples.sh (synth-error-flush.pcapng).

Against `ninescope serve --driver synth` it makes, in order:
  Tversion/Rversion; Tattach fid 0 / Rattach;
  Twalk fid 0 -> 1 "no-such-file"        -> Rlerror ENOENT
  Twalk fid 0 -> 1 "FAIL"; Tlopen; Tread -> Rlerror EIO; Tclunk 1
  Twalk fid 0 -> 2 "FLUSH"; Tlopen O_WRONLY; Twrite tag 10 (one non-zero byte: blocks)
  Tflush tag 11 oldtag 10                 -> Rflush (the Twrite never gets a reply)
  Tclunk 2; Tclunk 0
Usage: sample-client.py HOST:PORT
"""
import socket
import struct
import sys

NOFID = 0xFFFFFFFF
NOTAG = 0xFFFF


def s(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


def frame(mtype, tag, body):
    return struct.pack("<IBH", 7 + len(body), mtype, tag) + body


class Conn:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, mtype, tag, body):
        self.sock.sendall(frame(mtype, tag, body))

    def recv(self):
        head = self._exact(7)
        size, mtype, tag = struct.unpack("<IBH", head)
        return mtype, tag, self._exact(size - 7)

    def rpc(self, mtype, tag, body, expect):
        self.send(mtype, tag, body)
        rtype, rtag, rbody = self.recv()
        if rtag != tag or rtype != expect:
            raise SystemExit(f"sample-client: sent type {mtype} tag {tag}, got type {rtype} tag {rtag}, wanted {expect}")
        return rbody

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise SystemExit("sample-client: connection closed")
            out += chunk
        return out


TVERSION, TATTACH, RLERROR, TWALK, TLOPEN, TREAD, TWRITE, TFLUSH, TCLUNK = 100, 104, 7, 110, 12, 116, 118, 108, 120
O_RDONLY, O_WRONLY = 0, 1


def main():
    c = Conn(sys.argv[1])
    c.rpc(TVERSION, NOTAG, struct.pack("<I", 8192) + s("9P2000.L"), TVERSION + 1)
    c.rpc(TATTACH, 1, struct.pack("<II", 0, NOFID) + s("root") + s("") + struct.pack("<I", 0), TATTACH + 1)
    err = c.rpc(TWALK, 2, struct.pack("<IIH", 0, 1, 1) + s("no-such-file"), RLERROR)
    assert struct.unpack("<I", err)[0] == 2, "expected ENOENT"
    c.rpc(TWALK, 3, struct.pack("<IIH", 0, 1, 1) + s("FAIL"), TWALK + 1)
    c.rpc(TLOPEN, 4, struct.pack("<II", 1, O_RDONLY), TLOPEN + 1)
    err = c.rpc(TREAD, 5, struct.pack("<IQI", 1, 0, 100), RLERROR)
    assert struct.unpack("<I", err)[0] == 5, "expected EIO"
    c.rpc(TCLUNK, 6, struct.pack("<I", 1), TCLUNK + 1)
    c.rpc(TWALK, 7, struct.pack("<IIH", 0, 2, 1) + s("FLUSH"), TWALK + 1)
    c.rpc(TLOPEN, 8, struct.pack("<II", 2, O_WRONLY), TLOPEN + 1)
    c.send(TWRITE, 10, struct.pack("<IQI", 2, 0, 1) + b"\x01")
    c.rpc(TFLUSH, 11, struct.pack("<H", 10), TFLUSH + 1)
    c.rpc(TCLUNK, 12, struct.pack("<I", 2), TCLUNK + 1)
    c.rpc(TCLUNK, 13, struct.pack("<I", 0), TCLUNK + 1)
    c.sock.close()


if __name__ == "__main__":
    main()
