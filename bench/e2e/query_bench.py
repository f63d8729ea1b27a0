#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Query benchmark: `sluice query` against `nfdump` on the same flows, side by side.

1. Data (kept in --workdir and reused when its manifest matches): sluice-blast writes
   --flows flows of seeded realistic traffic (see bench/e2e/README.md) into a pcap on a
   simulated clock, so that the flows' own times cover --span-hours (a day by default);
   `sluice replay` then sends the same bytes at a loss-free rate (--rate) to `sluice serve
   --data WORKDIR/sluice` and to `nfcapd -w WORKDIR/nfcapd` (uncompressed, as the
   issue's nfdump figures were taken), one after the other. Both collectors file the flows
   by receive time; queries filter on the flows' own times. `sluice serve` then runs once
   more, receiving nothing, until its housekeeping has written the per-segment summaries
   and address filters (docs/retention.md), as a running service has them a few seconds
   after each rotation.
2. Queries, each run --repeat times after one warm-up run (warm page cache), output to
   /dev/null, wall time and peak RSS (wait4) of the query process:
     selective filter   proto tcp and dst port 445
     host filter        host HOST (a host of the traffic, see --host)
     -s srcip/bytes -n 10            (read from the source-address summaries)
     -s dstport/bytes -n 10          (read from the port summaries)
     the same two with --no-rollups  (every flow read, as nfdump does)
     -A srcip,dstip,srcport,dstport,proto -O bytes -n 10
     5-minute series    sluice query --bucket 5m (nfdump has no equivalent: absolute only)
   Rows scanned per second = flows in the store / median wall time; ratio = nfdump time /
   sluice time on the same query.

Prints a Markdown table for docs/BENCHMARKS.md and writes the raw figures as JSON.
Not part of the test suite (it needs minutes and gigabytes): `make bench-query`.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_bench import free_udp_port, load_average, wait_for_file, wait_for_udp_listener  # noqa: E402
from store_bench import wait_for_drain, wait_with_rusage  # noqa: E402

SUMMARIES_PER_SEGMENT = 5  # minute, src, dst, port, port-slot (store::kSummaryShapes)

QUERIES = [
    # (name, nfdump arguments, sluice arguments); None = no equivalent
    ("selective filter", ["proto tcp and dst port 445"], ["proto tcp and dst port 445"]),
    ("host filter", ["host {host}"], ["host {host}"]),
    ("-s srcip/bytes -n 10", ["-s", "srcip/bytes", "-n", "10"], ["-s", "srcip/bytes", "-n", "10"]),
    ("-s dstport/bytes -n 10", ["-s", "dstport/bytes", "-n", "10"], ["-s", "dstport/bytes", "-n", "10"]),
    ("-s srcip/bytes -n 10, detail only", ["-s", "srcip/bytes", "-n", "10"],
     ["--no-rollups", "-s", "srcip/bytes", "-n", "10"]),
    ("-s dstport/bytes -n 10, detail only", ["-s", "dstport/bytes", "-n", "10"],
     ["--no-rollups", "-s", "dstport/bytes", "-n", "10"]),
    ("-A 5-tuple -O bytes -n 10", ["-A", "srcip,dstip,srcport,dstport,proto", "-O", "bytes", "-n", "10"],
     # 50 M flows are ~50 M distinct 5-tuples: more than half of a small machine's memory
     # (the default budget).
     ["-A", "srcip,dstip,srcport,dstport,proto", "-O", "bytes", "-n", "10", "--memory-budget", "12G"]),
    ("5-minute series", None, ["--bucket", "5m"]),
]


def write_capture(args, workdir):
    """The flows, once, as a pcap: the same bytes are then replayed to both collectors."""
    path = os.path.join(workdir, "flows.pcap")
    rate = args.flows / (args.span_hours * 3600.0) if args.span_hours else args.rate
    subprocess.run([args.blast, "--write-pcap", path, "--flows", str(args.flows), "--rate", f"{rate:.3f}",
                    "--protocol", args.protocol, "--exporters", "4", "--seed", str(args.seed),
                    "--template-every", "60", "--start-ms", str(args.clock_start_ms)],
                   check=True, stdout=subprocess.DEVNULL)
    return path


def fill(name, start, stored_flows, args, capture):
    """Starts a collector with start(port), replays the capture to it, stops it cleanly."""
    port = free_udp_port()
    proc = start(port)
    try:
        began = time.monotonic()
        subprocess.run([args.sluice, "replay", capture, "--to", f"127.0.0.1:{port}",
                        "--rate", str(args.rate // 25)], check=True, capture_output=True)
        wait_for_drain(port, 600)
        seconds = time.monotonic() - began
        proc.send_signal(signal.SIGTERM)
        wait_with_rusage(proc, 600)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
        raise
    stored = stored_flows()
    print(f"  {name}: replayed {args.flows} flows in {seconds:.0f} s, stored {stored}", flush=True)
    return {"sent": args.flows, "stored": stored}


def settle(args, sluice_data, workdir):
    """Runs `sluice serve` on the data, receiving nothing, until every detail segment has
    its summaries (written by the housekeeping a few seconds after start)."""
    def totals():
        out = subprocess.run([args.sluice, "store", "stats", "--data", sluice_data, "--json"],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out)["totals"]

    log = open(os.path.join(workdir, "sluice-settle.log"), "w")
    proc = subprocess.Popen([args.sluice, "serve", "--http", "off", "--listen", f"127.0.0.1:{free_udp_port()}",
                             "--stats-interval", "0", "--data", sluice_data],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            t = totals()
            if (t["summary"]["segments"] >= SUMMARIES_PER_SEGMENT * t["detail"]["segments"]
                    and t.get("address_filters", {}).get("segments", 0) >= t["detail"]["segments"]):
                break
            time.sleep(1)
        else:
            raise RuntimeError("the summaries were not written in 600 s; see sluice-settle.log")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    print(f"  sluice serve: summaries written ({t['summary']['segments']} files, "
          f"{t['summary']['rows']} rows), address filters of {t['address_filters']['segments']} segments "
          f"({t['address_filters']['bytes']} bytes; detail {t['detail']['bytes']} bytes)", flush=True)


def build_data(args, workdir):
    manifest_path = os.path.join(workdir, "manifest.json")
    wanted = {"flows": args.flows, "seed": args.seed, "protocol": args.protocol,
              "span_hours": args.span_hours, "rate": args.rate, "summaries": True}
    if args.arrival_order:
        wanted["cluster_by_port"] = False
    if os.path.exists(manifest_path):
        with open(manifest_path) as manifest_file:
            manifest = json.load(manifest_file)
        if manifest.get("wanted") == wanted:
            print(f"reusing the data in {workdir}", flush=True)
            return manifest
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(os.path.join(workdir, "nfcapd"))
    sluice_data = os.path.join(workdir, "sluice")

    def start_sluice(port):
        ready = os.path.join(workdir, "ready")
        log = open(os.path.join(workdir, "sluice.log"), "w")
        config = []
        if args.arrival_order:
            config_path = os.path.join(workdir, "sluice.toml")
            with open(config_path, "w") as config_file:
                config_file.write("[store]\ncluster_by_port = false\n")
            config = ["--config", config_path]
        proc = subprocess.Popen([args.sluice, "serve", *config, "--http", "off", "--listen", f"127.0.0.1:{port}",
                                 "--rcvbuf", "64M", "--stats-interval", "0", "--ready-file", ready,
                                 "--data", sluice_data], stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_file(ready, 30):
            proc.kill()
            raise RuntimeError("sluice serve did not start; see sluice.log")
        return proc

    def sluice_flows():
        out = subprocess.run([args.sluice, "store", "stats", "--data", sluice_data, "--json"],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out)["totals"]["detail"]["flows"]

    def start_nfcapd(port):
        log = open(os.path.join(workdir, "nfcapd.log"), "w")
        proc = subprocess.Popen(["nfcapd", "-p", str(port), "-b", "127.0.0.1", "-B", "67108864",
                                 "-t", "300", "-w", os.path.join(workdir, "nfcapd")],
                                stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_udp_listener(port):
            proc.kill()
            raise RuntimeError("nfcapd did not start; see nfcapd.log")
        return proc

    def nfcapd_flows():
        out = subprocess.run(["nfdump", "-R", os.path.join(workdir, "nfcapd"), "-I"],
                             capture_output=True, text=True, check=True).stdout
        return next(int(line.split(":")[1]) for line in out.splitlines() if line.startswith("Flows:"))

    print(f"building {args.flows / 1e6:.0f} M flows for each collector in {workdir}", flush=True)
    capture = write_capture(args, workdir)
    manifest = {"wanted": wanted,
                "sluice": fill("sluice serve", start_sluice, sluice_flows, args, capture),
                "nfcapd": fill("nfcapd", start_nfcapd, nfcapd_flows, args, capture)}
    os.remove(capture)
    with open(manifest_path, "w") as manifest_file:
        json.dump(manifest, manifest_file)
    return manifest


def run_once(command):
    start = time.monotonic()
    with open(os.devnull, "w") as devnull:
        proc = subprocess.Popen(command, stdout=devnull, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} exited {code}: {proc.stderr.read().decode()[:400]}")
    return wall, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


def time_query(command, repeat):
    run_once(command)  # warm-up: page cache, and a first check that the command works
    runs = [run_once(command) for _ in range(repeat)]
    return {"wall_s": statistics.median(run[0] for run in runs),
            "peak_rss_mib": max(run[1] for run in runs),
            "cpu_s": statistics.median(run[2] for run in runs),
            "command": " ".join(command)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build/release")
    parser.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "sluice-query-bench"))
    parser.add_argument("--flows", type=int, default=50_000_000)
    parser.add_argument("--rate", type=int, default=500_000, help="flows/s replayed while building the data")
    parser.add_argument("--protocol", default="v9")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--span-hours", type=float, default=24.0,
                        help="hours of flow time the data covers (0: --rate flows a second)")
    parser.add_argument("--clock-start-ms", type=int, default=None)
    parser.add_argument("--host", default="198.18.0.10", help="address for the host filter")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--arrival-order", action="store_true",
                        help="build the sluice store with [store] cluster_by_port = false (every "
                             "block in arrival order; the default clusters blocks by port)")
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--only", default=None,
                        help="run only the queries whose name contains this text (e.g. 5-tuple)")
    args = parser.parse_args()
    args.sluice = os.path.join(args.build_dir, "apps", "sluice", "sluice")
    args.blast = os.path.join(args.build_dir, "tools", "flowblast", "sluice-blast")
    if args.clock_start_ms is None:
        args.clock_start_ms = (int(time.time()) // 86400 - 1) * 86400 * 1000  # yesterday 00:00 UTC
    for tool in ("nfdump", "nfcapd"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (Debian package nfdump)")

    manifest = build_data(args, args.workdir)
    # Also for reused data, which an older build may have summarised with fewer kinds.
    settle(args, os.path.join(args.workdir, "sluice"), args.workdir)
    sluice_rows = manifest["sluice"]["stored"]
    nfdump_rows = manifest["nfcapd"]["stored"]
    results = []
    print(f"load average before the queries: {load_average():.2f}", flush=True)
    for name, nfdump_args, sluice_args in QUERIES:
        if args.only and args.only not in name:
            continue
        row = {"query": name}
        if sluice_args is not None:
            command = [args.sluice, "query", "--data", os.path.join(args.workdir, "sluice"), "-q"]
            command += [a.format(host=args.host) for a in sluice_args]
            row["sluice"] = time_query(command, args.repeat)
            row["sluice"]["rows_per_s"] = sluice_rows / row["sluice"]["wall_s"]
        if nfdump_args is not None:
            command = ["nfdump", "-R", os.path.join(args.workdir, "nfcapd"), "-q"]
            command += [a.format(host=args.host) for a in nfdump_args]
            row["nfdump"] = time_query(command, args.repeat)
            row["nfdump"]["rows_per_s"] = nfdump_rows / row["nfdump"]["wall_s"]
        if "sluice" in row and "nfdump" in row:
            row["ratio"] = row["nfdump"]["wall_s"] / row["sluice"]["wall_s"]
        results.append(row)
        print(json.dumps(row), flush=True)

    print(f"\nflows: sluice {sluice_rows}, nfdump {nfdump_rows}; load average after: {load_average():.2f}\n")
    print("| query | sluice (s) | sluice rows/s | sluice peak RSS (MiB) | nfdump (s) | nfdump rows/s | "
          "nfdump peak RSS (MiB) | nfdump / sluice |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        s = row.get("sluice")
        n = row.get("nfdump")
        print(f"| {row['query']} | "
              + (f"{s['wall_s']:.3f} | {s['rows_per_s'] / 1e6:.0f} M | {s['peak_rss_mib']:.0f} | " if s else "- | - | - | ")
              + (f"{n['wall_s']:.3f} | {n['rows_per_s'] / 1e6:.1f} M | {n['peak_rss_mib']:.0f} | " if n else "- | - | - | ")
              + (f"**{row['ratio']:.1f}x** |" if "ratio" in row else "- |"))
    if args.json_out:
        with open(args.json_out, "w") as out:
            json.dump({"manifest": manifest, "results": results}, out, indent=1)


if __name__ == "__main__":
    main()
