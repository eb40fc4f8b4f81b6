#!/usr/bin/env python3
"""A recording TCP proxy for the Kafka wire protocol (Python 3 standard library only).

Listens on --listen HOST:PORT, forwards every connection to --target HOST:PORT, and writes each
complete request and response frame to --out DIR.

Each file holds one frame WITHOUT its 4-byte size prefix: the request or response header
followed by the body, exactly as sent on the wire. Files are named

    c<conn>-<seq>-<req|resp>-k<api_key>-v<api_version>-corr<correlation_id>.bin

where <conn> numbers connections in accept order and <seq> numbers frames within a connection.
A response is matched to its request by correlation id (the first 4 bytes of every response
header), which gives its api key and version. DIR/index.jsonl gets one JSON line per frame.

The proxy runs until it receives SIGTERM or SIGINT.
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading

_lock = threading.Lock()
_conn_counter = [0]


def _read_exact(sock, n):
    chunks = []
    while n > 0:
        chunk = sock.recv(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(sock):
    prefix = _read_exact(sock, 4)
    if prefix is None:
        return None
    (size,) = struct.unpack(">i", prefix)
    if size < 0 or size > 100 * 1024 * 1024:
        raise ValueError("bad frame size %d" % size)
    body = _read_exact(sock, size)
    if body is None:
        return None
    return prefix, body


class Connection:
    def __init__(self, out_dir, conn_id, client, server):
        self.out_dir = out_dir
        self.conn_id = conn_id
        self.client = client
        self.server = server
        self.seq = 0
        self.pending = {}  # correlation id -> (api key, api version)
        self.lock = threading.Lock()

    def _write(self, direction, key, version, corr, frame):
        with self.lock:
            seq = self.seq
            self.seq += 1
        name = "c%02d-%03d-%s-k%d-v%d-corr%d.bin" % (
            self.conn_id,
            seq,
            direction,
            key,
            version,
            corr,
        )
        with open(os.path.join(self.out_dir, name), "wb") as f:
            f.write(frame)
        entry = {
            "file": name,
            "conn": self.conn_id,
            "seq": seq,
            "direction": direction,
            "api_key": key,
            "api_version": version,
            "correlation_id": corr,
            "size": len(frame),
        }
        with _lock:
            with open(os.path.join(self.out_dir, "index.jsonl"), "a") as f:
                f.write(json.dumps(entry) + "\n")

    def client_to_server(self):
        try:
            while True:
                got = _read_frame(self.client)
                if got is None:
                    break
                prefix, body = got
                key, version, corr = struct.unpack(">hhi", body[:8])
                with self.lock:
                    self.pending[corr] = (key, version)
                self._write("req", key, version, corr, body)
                self.server.sendall(prefix + body)
        except (OSError, ValueError) as e:
            print("proxy c%d client side: %s" % (self.conn_id, e), file=sys.stderr)
        finally:
            _shutdown(self.server)

    def server_to_client(self):
        try:
            while True:
                got = _read_frame(self.server)
                if got is None:
                    break
                prefix, body = got
                (corr,) = struct.unpack(">i", body[:4])
                with self.lock:
                    key, version = self.pending.pop(corr, (-1, -1))
                self._write("resp", key, version, corr, body)
                self.client.sendall(prefix + body)
        except (OSError, ValueError) as e:
            print("proxy c%d server side: %s" % (self.conn_id, e), file=sys.stderr)
        finally:
            _shutdown(self.client)


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _parse_addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="HOST:PORT to accept clients on")
    parser.add_argument("--target", required=True, help="HOST:PORT of the broker listener")
    parser.add_argument("--out", required=True, help="directory for the frame files")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(_parse_addr(args.listen))
    listener.listen(16)

    def stop(_signum, _frame):
        listener.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("proxy listening on %s -> %s" % (args.listen, args.target), flush=True)

    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            break
        server = socket.create_connection(_parse_addr(args.target))
        with _lock:
            _conn_counter[0] += 1
            conn_id = _conn_counter[0]
        conn = Connection(args.out, conn_id, client, server)
        threading.Thread(target=conn.client_to_server, daemon=True).start()
        threading.Thread(target=conn.server_to_client, daemon=True).start()


if __name__ == "__main__":
    main()
