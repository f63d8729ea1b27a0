#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Dashboard benchmark: the HTTP requests each page of the web UI makes, timed against a
real `sluice serve` holding a day of traffic at 10 k flows/s (issue 6: every graph and
list in well under a second).

1. `store_day_gen` writes --hours of synthetic traffic at --rate flows/s into
   WORKDIR/data, one sealed segment per 5-minute slot, as serve would have (once; a rerun
   with the same WORKDIR reuses it).
2. `sluice serve --data WORKDIR/data` starts with the API on a free loopback port; its
   housekeeping writes the summaries (and the hourly roll-ups) of the sealed segments.
   The benchmark waits until every segment has its summaries and its address filters and
   every complete hour its hour summaries (`sluice store ls --json`), unless --no-wait.
3. For each range (--ranges) and each page, the same requests as web/src/pages/*.js, one
   after another (as the browser sends a page's requests at once, the page's time is
   also given with the requests in parallel); median of --repeat runs after one warm-up.

Not part of the test suite (minutes of data generation): see docs/BENCHMARKS.md.
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_bench import free_udp_port, load_average, wait_for_file  # noqa: E402
from api_bench import free_tcp_port  # noqa: E402

HOST = "198.18.0.10"  # a busy client of the traffic model
SUMMARIES_PER_SEGMENT = 6  # store/layout.h kSummaryDirs


def pages(window):
    """(page, [(label, method, path, params, body)]) as the web UI sends them."""
    w = {"from": str(window[0] // 60_000 * 60_000), "to": str(window[1])}  # as web/src/time_range.js
    overview = [(f"series {m} by proto", "GET", "/api/v1/series", {"metric": m, "group": "proto", "top": "50", **w}, None)
                for m in ("flows", "packets", "bytes")]
    overview += [(f"top {stat}", "POST", "/api/v1/query", None, {**w, "limit": 10, "distinct": False, "stat": [stat]})
                 for stat in ("srcip/bytes", "dstip/bytes", "dstport/bytes", "proto/bytes")]
    by_exporter = [(f"series {m} by exporter", "GET", "/api/v1/series", {"metric": m, "group": "exporter", "top": "10", **w}, None)
                   for m in ("flows", "packets", "bytes")]
    ports = [("dstport lists", "POST", "/api/v1/query", None,
              {**w, "limit": 15, "distinct": False, "stat": ["dstport/bytes", "dstport/packets", "dstport/flows"]}),
             ("srcport list", "POST", "/api/v1/query", None, {**w, "limit": 15, "distinct": False, "stat": ["srcport/bytes"]}),
             ("proto list", "POST", "/api/v1/query", None, {**w, "limit": 15, "distinct": False, "stat": ["proto/bytes"]}),
             ("series bytes by dstport", "GET", "/api/v1/series",
              {"metric": "bytes", "group": "dstport", "top": "10", "filter": "dst port in [443 80 53 22 25]", **w}, None)]
    host = [("series in", "GET", "/api/v1/series", {"metric": "bytes", "filter": f"dst host {HOST}", **w}, None),
            ("series out", "GET", "/api/v1/series", {"metric": "bytes", "filter": f"src host {HOST}", **w}, None),
            ("peers, ports, protocols", "POST", "/api/v1/query", None,
             {**w, "filter": f"host {HOST}", "limit": 11, "stat": ["ip/bytes", "port/bytes", "proto/bytes"]}),
            ("flows", "GET", "/api/v1/flows", {"filter": f"host {HOST}", "limit": "100", **w}, None)]
    return [("overview", overview), ("overview by exporter", by_exporter), ("ports", ports), ("host", host)]


def call(base, token, method, path, params, body):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:  # 503 query_timeout past the API's deadline
        error.read()
        status = error.code
    return time.perf_counter() - start, status


HOUR_SUMMARIES_PER_HOUR = 4  # store/rollup.h kHourSummaries
HOUR_SUMMARY_DELAY_MS = 3_600_000 + 5 * 60_000 + 60_000  # 1 h + rotation + 1 min


def store_counts(sluice, data):
    """(summaries missing, hourly roll-ups, detail segments) in the store: a detail segment
    misses its slot summaries and address filters until it has all of them, a complete hour
    its hour summaries."""
    listing = json.loads(subprocess.run([sluice, "store", "ls", "--data", data, "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    kinds = {}
    hours = set()
    now_ms = time.time() * 1000
    for segment in listing["segments"]:
        kind = segment["kind"]
        kind = "hour-summary" if kind.startswith("hour-summary-") else "summary" if kind.startswith("summary-") else kind
        kinds[kind] = kinds.get(kind, 0) + 1
        hour = segment["start_ms"] // 3_600_000 * 3_600_000
        if segment["kind"] == "detail" and hour + HOUR_SUMMARY_DELAY_MS <= now_ms:
            hours.add(hour)
    detail = kinds.get("detail", 0)
    # The address filters of the detail segments (the host page's), written after the summaries.
    filters = sum(1 for _, _, files in os.walk(data) for name in files if name.endswith(".flt"))
    missing = max(0, SUMMARIES_PER_SEGMENT * detail - kinds.get("summary", 0)) + \
        max(0, HOUR_SUMMARIES_PER_HOUR * len(hours) - kinds.get("hour-summary", 0)) + \
        max(0, detail - filters)
    return missing, kinds.get("rollup", 0), detail


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build/release")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "sluice-dashboard-bench"))
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--ranges", default="1h,6h,24h")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages", default="overview,overview by exporter,ports,host",
                        help="comma-separated pages to time")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for the summaries")
    parser.add_argument("--wait-rollups", type=int, default=0,
                        help="also wait for this many hourly roll-ups (so that none is written during the timings)")
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    sluice = os.path.join(args.build_dir, "apps", "sluice", "sluice")
    gen = os.path.join(args.build_dir, "bench", "store_day_gen")
    data = os.path.join(args.workdir, "data")
    meta_path = os.path.join(args.workdir, "data.json")
    os.makedirs(args.workdir, exist_ok=True)
    if not os.path.exists(meta_path):
        started = time.monotonic()
        out = subprocess.run([gen, "--data", data, "--hours", str(args.hours), "--rate", str(args.rate)],
                             capture_output=True, text=True, check=True).stdout
        meta = json.loads(out)
        with open(meta_path, "w") as f:
            json.dump(meta, f)
        print(f"generated {meta['flows']:,} flows in {meta['slots']} slots in {time.monotonic() - started:.0f} s", flush=True)
    meta = json.load(open(meta_path))
    token = subprocess.run([sluice, "token", "create", "--role", "read", "--name", "dashboard-bench", "--data", data],
                           capture_output=True, text=True, check=True).stdout.strip()
    udp_port, http_port = free_udp_port(), free_tcp_port()
    ready = os.path.join(args.workdir, "ready")
    if os.path.exists(ready):
        os.remove(ready)
    err_path = os.path.join(args.workdir, "serve.err")
    serve = subprocess.Popen([sluice, "serve", "--listen", f"127.0.0.1:{udp_port}", "--data", data,
                              "--http", f"127.0.0.1:{http_port}", "--ready-file", ready, "--stats-interval", "0"],
                             stdout=subprocess.DEVNULL, stderr=open(err_path, "w"))
    results = []
    try:
        if not wait_for_file(ready, 60):
            raise RuntimeError("sluice serve did not start: " + open(err_path).read())
        if not args.no_wait:
            started = time.monotonic()
            while True:
                missing, rollups, total = store_counts(sluice, data)
                if missing == 0 and rollups >= args.wait_rollups:
                    break
                time.sleep(2)
            print(f"summaries and hour summaries of {total} segments (and {rollups} roll-ups) ready after "
                  f"{time.monotonic() - started:.0f} s", flush=True)
        base = f"http://127.0.0.1:{http_port}"
        end = meta["to_ms"]
        print(f"load average: {load_average():.2f}", flush=True)
        for range_text in args.ranges.split(","):
            hours = float(range_text.rstrip("hd")) * (24 if range_text.endswith("d") else 1)
            window = (int(end - hours * 3_600_000), int(end))
            for page, requests in pages(window):
                if page not in args.pages.split(","):
                    continue
                for label, method, path, params, body in requests:
                    call(base, token, method, path, params, body)  # warm-up
                    answers = [call(base, token, method, path, params, body) for _ in range(args.repeat)]
                    statuses = sorted({status for _, status in answers})
                    row = {"range": range_text, "page": page, "request": label,
                           "median_s": statistics.median(t for t, _ in answers), "status": statuses}
                    results.append(row)
                    note = "" if statuses == [200] else f"  (HTTP {statuses})"
                    print(f"{range_text:>4}  {page:<22} {label:<26} {row['median_s'] * 1000:9.1f} ms{note}", flush=True)
                with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
                    page_times = []
                    for _ in range(args.repeat):
                        start = time.perf_counter()
                        list(pool.map(lambda r: call(base, token, *r[1:]), requests))  # noqa: B023
                        page_times.append(time.perf_counter() - start)
                row = {"range": range_text, "page": page, "request": "(whole page, in parallel)",
                       "median_s": statistics.median(page_times)}
                results.append(row)
                print(f"{range_text:>4}  {page:<22} {'(whole page, in parallel)':<26} {row['median_s'] * 1000:9.1f} ms", flush=True)
        print(f"load average: {load_average():.2f}", flush=True)
    finally:
        serve.terminate()
        serve.wait(timeout=120)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"flows": meta["flows"], "rate": args.rate, "hours": args.hours, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
