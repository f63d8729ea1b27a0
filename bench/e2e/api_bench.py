#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""API load benchmark: wrk on the HTTP API of a real `sluice serve` while it ingests.

1. `sluice serve --data WORKDIR` with the API on a free loopback port; the admin token is
   read from its first-start message.
2. `sluice-blast` fills the store for --fill seconds at --rate v9 flows/s, then keeps
   sending at the same rate for the whole load phase.
3. For each endpoint, wrk (Debian's) runs --duration seconds with --connections
   connections on 2 threads; requests/s and the latency percentiles come from its
   --latency report; non-2xx answers are counted.
4. The blast ends, serve is stopped with SIGTERM, and loss = 1 - flows stored
   (store.flows_written of --stats-file) / flows sent (sluice-blast's JSON summary).

Not part of the test suite (a minute of load): `make bench-api`.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_bench import free_udp_port, load_average, wait_for_file  # noqa: E402

ENDPOINTS = [
    ("top-talkers", "/api/v1/netflow/top-talkers?period=15m&limit=10"),
    ("series", "/api/v1/series?metric=bytes&period=1h&step=1m"),
    ("series by dstport", "/api/v1/series?metric=bytes&period=1h&step=1m&group=dstport&top=5"),
]


def free_tcp_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_wrk(text):
    def seconds(value, unit):
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]
    result = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        result[f"p{pct}_ms"] = seconds(*match.groups()) * 1000 if match else None
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    result["requests"] = int(re.search(r"(\d+) requests in", text).group(1))
    timeouts = re.search(r"timeout (\d+)", text)
    result["timeouts"] = int(timeouts.group(1)) if timeouts else 0
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build/release")
    parser.add_argument("--rate", type=int, default=200_000, help="v9 flows/s sent throughout")
    parser.add_argument("--fill", type=float, default=20.0, help="seconds of ingest before the load")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    sluice = os.path.join(args.build_dir, "apps", "sluice", "sluice")
    blast = os.path.join(args.build_dir, "tools", "flowblast", "sluice-blast")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian package wrk)")

    work = tempfile.mkdtemp(prefix="sluice-api-bench-")
    udp_port, http_port = free_udp_port(), free_tcp_port()
    ready, stats = os.path.join(work, "ready"), os.path.join(work, "stats.json")
    err_path = os.path.join(work, "serve.err")
    serve = subprocess.Popen([sluice, "serve", "--listen", f"127.0.0.1:{udp_port}", "--data",
                              os.path.join(work, "data"), "--http", f"127.0.0.1:{http_port}",
                              "--ready-file", ready, "--stats-file", stats, "--stats-interval", "0",
                              "--rcvbuf", "64M"],
                             stdout=subprocess.DEVNULL, stderr=open(err_path, "w"))
    try:
        if not wait_for_file(ready, 30):
            raise RuntimeError("sluice serve did not start: " + open(err_path).read())
        token = re.search(r"sluice_[0-9a-f]{8}_[0-9a-f]{64}", open(err_path).read()).group(0)
        send_seconds = args.fill + len(ENDPOINTS) * (args.duration + 2) + 5
        sender = subprocess.Popen([blast, "--to", f"127.0.0.1:{udp_port}", "--rate", str(args.rate),
                                   "--duration", str(send_seconds), "--json"],
                                  stdout=subprocess.PIPE, text=True)
        time.sleep(args.fill)
        print(f"load average before wrk: {load_average():.2f}", flush=True)
        results = []
        for name, path in ENDPOINTS:
            out = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "--timeout", "30s",
                                  "-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{http_port}{path}"],
                                 capture_output=True, text=True, check=True).stdout
            row = {"endpoint": name, "path": path, **parse_wrk(out)}
            results.append(row)
            print(json.dumps(row), flush=True)
            time.sleep(2)
        sent = json.loads(sender.communicate(timeout=send_seconds + 60)[0])
        time.sleep(1)
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=120)
        stored = json.load(open(stats))["store"]["flows_written"]
        flows_sent = sent.get("flows", sent.get("flows_sent"))
        loss = 1 - stored / flows_sent
        print(f"\ningest meanwhile: sent {flows_sent} v9 flows at {args.rate}/s, stored {stored}, loss {loss:.6f}")
        print("\n| endpoint | requests/s | p50 (ms) | p90 (ms) | p99 (ms) | non-2xx | timeouts |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in results:
            print(f"| `{row['path']}` | {row['requests_per_s']:.0f} | {row['p50_ms']:.1f} | "
                  f"{row['p90_ms']:.1f} | {row['p99_ms']:.1f} | {row['non_2xx']} | {row['timeouts']} |")
        if args.json_out:
            with open(args.json_out, "w") as out_file:
                json.dump({"results": results, "sent": flows_sent, "stored": stored, "loss": loss}, out_file, indent=1)
    finally:
        if serve.poll() is None:
            serve.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
