#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end loopback benchmark: sluice-blast -> UDP -> collector, at rising rates.

For each collector (sluice with a 64 MiB buffer, sluice with default flags, Debian's
nfcapd with a 64 MiB buffer), each protocol (v5, v9, IPFIX) and each rate, it sends
synthetic flows for --duration seconds and measures:
  loss      1 - records the collector decoded (or stored) / flows sent
  CPU/flow  the collector's utime+stime (/proc/PID/stat) over the run / flows sent
and reports the highest loss-free rate of each collector and protocol, as a Markdown
table for docs/BENCHMARKS.md. Not part of the test suite: run by bench/run-all.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a process and its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wait_for_file(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.01)
    return False


def wait_for_udp_listener(port, timeout=10.0):
    """True once some socket is bound to 127.0.0.1/0.0.0.0:port (from /proc/net/udp)."""
    needle = f":{port:04X} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/udp") as table:
            if any(needle in line.split("00000000:0000")[0] for line in table.readlines()[1:]):
                return True
        time.sleep(0.01)
    return False


class SluiceCollector:
    def __init__(self, binary, name, extra_args, prefix=()):
        self.binary = binary
        self.name = name
        self.extra_args = extra_args
        self.prefix = list(prefix)

    def command(self, port, workdir):
        return self.prefix + [self.binary, "serve", "--http", "off", "--listen", f"127.0.0.1:{port}", "--stats-interval", "0",
                "--ready-file", os.path.join(workdir, "ready"),
                "--stats-file", os.path.join(workdir, "stats.json"),
                # The store writes under --data (default ./data): keep it in the trial's
                # temporary directory. store_bench.py measures storage.
                "--data", os.path.join(workdir, "data")] + self.extra_args

    def start(self, port, workdir):
        log = open(os.path.join(workdir, "collector.log"), "w")
        proc = subprocess.Popen(self.command(port, workdir), stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_file(os.path.join(workdir, "ready")):
            proc.kill()
            raise RuntimeError(f"{self.name} did not start; see {log.name}")
        return proc

    def stop_and_count(self, proc, workdir):
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        with open(os.path.join(workdir, "stats.json")) as stats_file:
            stats = json.load(stats_file)
        return stats["records"], {k: stats[k] for k in ("kernel_drops", "dropped_queue_full", "decode_errors")}


class NfcapdCollector:
    name = "nfcapd -B 64MiB"

    def command(self, port, workdir):
        return ["nfcapd", "-p", str(port), "-b", "127.0.0.1", "-w", os.path.join(workdir, "flows"),
                "-B", "67108864", "-t", "3600"]

    def start(self, port, workdir):
        os.makedirs(os.path.join(workdir, "flows"), exist_ok=True)
        log = open(os.path.join(workdir, "collector.log"), "w")
        proc = subprocess.Popen(self.command(port, workdir), stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_udp_listener(port):
            proc.kill()
            raise RuntimeError(f"nfcapd did not start; see {log.name}")
        return proc

    def stop_and_count(self, proc, workdir):
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        summary = subprocess.run(["nfdump", "-R", os.path.join(workdir, "flows"), "-I"],
                                 capture_output=True, text=True).stdout
        for line in summary.splitlines():
            if line.startswith("Flows:"):
                return int(line.split(":")[1]), {}
        return 0, {}


def load_average():
    with open("/proc/loadavg") as loadavg:
        return float(loadavg.read().split()[0])


def run_trial(collector, blast, protocol, rate, duration, settle):
    load_before = load_average()
    workdir = tempfile.mkdtemp(prefix="sluice-e2e-")
    try:
        port = free_udp_port()
        proc = collector.start(port, workdir)
        try:
            cpu_before = cpu_seconds(proc.pid)
            sent = json.loads(subprocess.run(
                [blast, "--to", f"127.0.0.1:{port}", "--protocol", protocol, "--rate", str(rate),
                 "--duration", str(duration), "--exporters", "4", "--json"],
                capture_output=True, text=True, check=True).stdout)
            time.sleep(settle)  # let the collector drain its socket and queues
            cpu = cpu_seconds(proc.pid) - cpu_before
        except BaseException:
            proc.kill()
            raise
        received, extra = collector.stop_and_count(proc, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    flows = sent["flows"]
    return {
        "load1": load_before,
        "collector": collector.name, "protocol": protocol, "target_rate": rate,
        "sent_rate": round(sent["flows_per_s"]), "flows": flows, "received": received,
        "loss": max(0.0, 1.0 - received / flows) if flows else 0.0,
        "cpu_s": round(cpu, 3), "cpu_ns_per_flow": round(cpu * 1e9 / flows, 1) if flows else 0,
        **extra,
    }


def fmt_rate(rate):
    return f"{rate / 1e6:.2f} M"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.environ.get("SLUICE_BUILD_DIR", "build/release"))
    parser.add_argument("--protocols", default="v5,v9,ipfix")
    parser.add_argument("--rates", default="250000,500000,1000000,2000000,3000000,4500000,6000000,8000000,10000000",
                        help="flows/s, rising; a collector stops at its second lossy rate")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per trial")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to wait after sending")
    parser.add_argument("--collectors", default="sluice-64m,sluice-unprivileged,nfcapd",
                        help="any of: sluice-64m, sluice-default, sluice-unprivileged, sluice-64m-q64m, "
                             "sluice-64m-2dec, nfcapd")
    parser.add_argument("--json-out", default="", help="also write every trial as JSON here")
    args = parser.parse_args()

    sluice = os.path.join(args.build_dir, "apps/sluice/sluice")
    blast = os.path.join(args.build_dir, "tools/flowblast/sluice-blast")
    for path in (sluice, blast):
        if not os.access(path, os.X_OK):
            sys.exit(f"e2e_bench: {path} not found; build first (make build)")
    available = {
        "sluice-64m": SluiceCollector(sluice, "sluice --rcvbuf 64M", ["--rcvbuf", "64M"]),
        "sluice-default": SluiceCollector(sluice, "sluice (default flags)", []),
        # What an unprivileged user gets: no CAP_NET_ADMIN, so the buffer is capped at
        # net.core.rmem_max (4 MiB on stock Debian) instead of the 64 MiB asked for.
        "sluice-unprivileged": SluiceCollector(sluice, "sluice (defaults, no CAP_NET_ADMIN)", [],
                                               prefix=["setpriv", "--bounding-set", "-net_admin"]),
        "sluice-64m-q64m": SluiceCollector(sluice, "sluice --rcvbuf 64M --queue 64M", ["--rcvbuf", "64M", "--queue", "64M"]),
        "sluice-64m-2dec": SluiceCollector(sluice, "sluice --rcvbuf 64M --decode-threads 2",
                                           ["--rcvbuf", "64M", "--decode-threads", "2"]),
        "nfcapd": NfcapdCollector(),
    }
    collectors = [available[name] for name in args.collectors.split(",") if name]
    if any(isinstance(c, NfcapdCollector) for c in collectors) and not shutil.which("nfcapd"):
        sys.exit("e2e_bench: nfcapd not installed (apt-get install nfdump)")
    rates = [int(rate) for rate in args.rates.split(",")]

    print("# Other processes compete for the same cores: check 'load' (1-min load average before"
          " each trial); compare runs on a quiet machine.")
    print(f"# e2e loopback benchmark: {os.cpu_count()} CPUs, {args.duration:g} s per trial, "
          f"net.core.rmem_max={open('/proc/sys/net/core/rmem_max').read().strip()}, uid {os.getuid()}",
          flush=True)
    trials = []
    for protocol in args.protocols.split(","):
        for collector in collectors:
            lossy = 0
            for rate in rates:
                trial = run_trial(collector, blast, protocol, rate, args.duration, args.settle)
                trials.append(trial)
                print(f"  {protocol:5} {collector.name:24} target {fmt_rate(rate)}/s sent {fmt_rate(trial['sent_rate'])}/s "
                      f"loss {trial['loss'] * 100:7.3f}% cpu {trial['cpu_ns_per_flow']:7.1f} ns/flow load {trial['load1']:.1f} "
                      f"{ {k: trial[k] for k in ('kernel_drops', 'dropped_queue_full') if k in trial} }",
                      flush=True)
                if trial["loss"] > 0:
                    lossy += 1
                    if lossy >= 2:
                        break
    if args.json_out:
        with open(args.json_out, "w") as out:
            json.dump(trials, out, indent=1)

    # Summary: highest loss-free rate (as actually sent) and CPU per flow there.
    print()
    print("| protocol | collector | highest loss-free rate (flows/s, below the first lossy one) | collector CPU at that rate (ns/flow) | "
          "CPU ratio vs sluice --rcvbuf 64M | first lossy rate: loss |")
    print("|---|---|---:|---:|---:|---|")
    for protocol in args.protocols.split(","):
        best = {}
        for collector in collectors:
            mine = [t for t in trials if t["protocol"] == protocol and t["collector"] == collector.name]
            lossy = [t for t in mine if t["loss"] > 0]
            # Conservative: only rates below the first lossy one count as loss-free.
            limit = lossy[0]["target_rate"] if lossy else float("inf")
            clean = [t for t in mine if t["loss"] == 0 and t["target_rate"] < limit]
            best[collector.name] = max(clean, key=lambda t: t["sent_rate"]) if clean else None
            best[collector.name + "/lossy"] = lossy[0] if lossy else None
        reference = best.get("sluice --rcvbuf 64M")
        for collector in collectors:
            top = best[collector.name]
            first_lossy = best[collector.name + "/lossy"]
            ratio = (f"{top['cpu_ns_per_flow'] / reference['cpu_ns_per_flow']:.2f}x"
                     if top and reference and reference["cpu_ns_per_flow"] else "-")
            print(f"| {protocol} | {collector.name} | "
                  f"{top['sent_rate']:,} | {top['cpu_ns_per_flow']} | {ratio} | "
                  if top else f"| {protocol} | {collector.name} | none | - | - | ", end="")
            print(f"{first_lossy['sent_rate']:,}: {first_lossy['loss'] * 100:.2f}% |" if first_lossy
                  else "none up to the highest rate tried |")
    print()
    print("Commands (PORT is a free port chosen per trial):")
    for collector in collectors:
        print("  " + " ".join(collector.command("PORT", "WORKDIR")))
    print(f"  {blast} --to 127.0.0.1:PORT --protocol v5|v9|ipfix --rate RATE --duration {args.duration:g} "
          f"--exporters 4 --json")


if __name__ == "__main__":
    main()
