#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end loopback benchmark with storage on: sluice-blast -> UDP -> collector -> disk.

Two parts, in one run, on the same synthetic flows (sluice-blast, one seed):

1. Sweep. For each protocol (v5, v9, IPFIX), each collector (sluice serve --data, zstd
   by default; Debian's nfcapd 1.7.1 uncompressed and with -y, LZ4) and rising rates, it
   sends for --duration seconds, stops the collector with SIGTERM (so it seals its files)
   and measures:
     loss       1 - flows stored / flows sent (sluice: store.flows_written of
                --stats-file, cross-checked with `sluice store stats --json` when that
                command exists; nfcapd: `nfdump -R DIR -I`, Flows:)
     CPU/flow   the collector's utime+stime over the whole trial, shutdown included
                (/proc/PID/stat at the start, wait4() rusage at exit) / flows sent
     bytes/flow sizes of the data files written (sluice: DIR/<source>/**/*.seg, roll-ups
                apart; nfcapd: nfcapd.YYYYMMDDhhmm) / flows stored
     peak RSS   VmHWM of /proc/PID/status just before SIGTERM
   Each collector climbs the rate list until its second lossy rate. The sweep runs
   --repeat times (the machine is shared and noisy).
2. Compression. At --compare-rate (moderate: nobody loses anything) every collector
   variant stores the same flows: nfcapd uncompressed, -y (LZ4) and -j (bzip2); sluice
   zstd, lz4 and none (the latter two through a TOML file with [store] compression).

Prints Markdown tables for docs/BENCHMARKS.md. Not part of the test suite: run by
bench/run-all (STORE_ARGS=--short for a quick run).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_bench import (free_udp_port, cpu_seconds, load_average, wait_for_file,  # noqa: E402
                       wait_for_udp_listener)


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def udp_backlog(port):
    """Bytes waiting in the receive queues of the UDP sockets bound to `port` (IPv4)."""
    needle = f":{port:04X}"
    backlog = 0
    with open("/proc/net/udp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(needle):
                backlog += int(fields[4].split(":")[1], 16)
    return backlog


def wait_for_drain(port, timeout):
    """Waits until the collector has read everything sent to it; returns the seconds waited."""
    start = time.monotonic()
    empty_reads = 0
    while time.monotonic() - start < timeout and empty_reads < 3:
        empty_reads = empty_reads + 1 if udp_backlog(port) == 0 else 0
        time.sleep(0.1)
    return time.monotonic() - start


def wait_with_rusage(proc, timeout):
    """Waits for `proc` to exit; returns its utime+stime over its whole life, in seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        time.sleep(0.02)
    proc.kill()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    raise RuntimeError(f"pid {proc.pid} did not exit within {timeout} s of SIGTERM")


class SluiceStore:
    """sluice serve --data WORKDIR/data; compression through a TOML file unless zstd."""

    def __init__(self, binary, compression, writer_threads=1, receive_offload=True, zstd_level=None):
        self.binary = binary
        self.compression = compression
        self.writer_threads = writer_threads
        self.receive_offload = receive_offload
        self.zstd_level = zstd_level  # None: the default
        self.name = f"sluice {compression}" + (f" level {zstd_level}" if zstd_level is not None else "") + (
            f" ({writer_threads} writer threads)" if writer_threads > 1 else "") + (
            "" if receive_offload else " (no UDP_GRO)")

    def command(self, port, workdir):
        command = [self.binary, "serve", "--http", "off", "--listen", f"127.0.0.1:{port}", "--rcvbuf", "64M",
                   "--stats-interval", "0", "--ready-file", os.path.join(workdir, "ready"),
                   "--stats-file", os.path.join(workdir, "stats.json"),
                   "--data", os.path.join(workdir, "data"),
                   "--writer-threads", str(self.writer_threads),
                   "--receive-offload", "on" if self.receive_offload else "off"]
        if self.compression != "zstd" or self.zstd_level is not None:
            command += ["--config", os.path.join(workdir, "sluice.toml")]
        return command

    def start(self, port, workdir):
        with open(os.path.join(workdir, "sluice.toml"), "w") as config:
            config.write(f'[store]\ncompression = "{self.compression}"\n')
            if self.zstd_level is not None:
                config.write(f"zstd_level = {self.zstd_level}\n")
        with open(os.path.join(workdir, "collector.log"), "w") as log:
            proc = subprocess.Popen(self.command(port, workdir), stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_file(os.path.join(workdir, "ready")):
            proc.kill()
            raise RuntimeError(f"{self.name} did not start; see {log.name}")
        return proc

    def measure_files(self, workdir):
        data = os.path.join(workdir, "data")
        result = {"data_files": 0, "data_bytes": 0, "rollup_bytes": 0, "open_files": 0}
        for root, _dirs, files in os.walk(data):
            rollup = os.sep + "rollup" in root[len(data):]
            for name in files:
                size = os.path.getsize(os.path.join(root, name))
                if name.endswith(".seg.open"):
                    result["open_files"] += 1
                    result["data_bytes"] += size  # still flows on disk
                elif name.endswith(".seg") and rollup:
                    result["rollup_bytes"] += size
                elif name.endswith(".seg"):
                    result["data_files"] += 1
                    result["data_bytes"] += size
        return result

    def stored_flows(self, workdir):
        with open(os.path.join(workdir, "stats.json")) as stats_file:
            stats = json.load(stats_file)
        extra = {"decoded": stats.get("records"),
                 **{k: stats.get(k) for k in ("kernel_drops", "dropped_queue_full", "decode_errors")}}
        store = stats.get("store")
        if store is None:
            extra["note"] = "no store counters in --stats-file: counted decoded records"
            return stats["records"], extra
        extra["not_written"] = store.get("flows_not_written")
        # Cross-check with what the files hold, if `sluice store stats` exists.
        listing = subprocess.run([self.binary, "store", "stats", "--data", os.path.join(workdir, "data"),
                                  "--json"], capture_output=True, text=True)
        if listing.returncode == 0:
            try:
                totals = json.loads(listing.stdout)["totals"]["detail"]
                extra["store_stats_flows"] = totals["flows"]
                extra["store_stats_bytes"] = totals["bytes"]
            except (ValueError, KeyError) as error:
                extra["store_stats_error"] = repr(error)
        return store["flows_written"], extra


class Nfcapd:
    def __init__(self, flag, label):
        self.flag = flag
        self.name = f"nfcapd {label}"

    def command(self, port, workdir):
        return (["nfcapd", "-p", str(port), "-b", "127.0.0.1", "-w", os.path.join(workdir, "flows"),
                 "-B", "67108864", "-t", "300"] + ([self.flag] if self.flag else []))

    def start(self, port, workdir):
        os.makedirs(os.path.join(workdir, "flows"), exist_ok=True)
        with open(os.path.join(workdir, "collector.log"), "w") as log:
            proc = subprocess.Popen(self.command(port, workdir), stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_udp_listener(port):
            proc.kill()
            raise RuntimeError(f"nfcapd did not start; see {log.name}")
        return proc

    def measure_files(self, workdir):
        flows = os.path.join(workdir, "flows")
        result = {"data_files": 0, "data_bytes": 0, "rollup_bytes": 0, "open_files": 0}
        for name in os.listdir(flows):
            size = os.path.getsize(os.path.join(flows, name))
            if name.startswith("nfcapd.current"):
                result["open_files"] += 1
                result["data_bytes"] += size
            elif name.startswith("nfcapd.") and name[7:].isdigit():
                result["data_files"] += 1
                result["data_bytes"] += size
        return result

    def stored_flows(self, workdir):
        summary = subprocess.run(["nfdump", "-R", os.path.join(workdir, "flows"), "-I"],
                                 capture_output=True, text=True).stdout
        for line in summary.splitlines():
            if line.startswith("Flows:"):
                return int(line.split(":")[1]), {}
        return 0, {"note": "nfdump -I found no flows"}


def run_trial(collector, blast, protocol, rate, duration, settle, seed, drain=False):
    load_before = load_average()
    workdir = tempfile.mkdtemp(prefix="sluice-store-")
    try:
        port = free_udp_port()
        proc = collector.start(port, workdir)
        try:
            cpu_before = cpu_seconds(proc.pid)
            sent = json.loads(subprocess.run(
                [blast, "--to", f"127.0.0.1:{port}", "--protocol", protocol, "--rate", str(rate),
                 "--duration", str(duration), "--exporters", "4", "--seed", str(seed), "--json"],
                capture_output=True, text=True, check=True).stdout)
            time.sleep(settle)  # let the collector drain its socket and queues
            # Sweep: what is still queued now is lost at SIGTERM (the collector did not keep
            # up). Comparison: wait until the collector has read everything.
            drain_s = wait_for_drain(port, 120) if drain else 0.0
            backlog = udp_backlog(port)
            hwm_kib = vm_hwm_kib(proc.pid)
            proc.send_signal(signal.SIGTERM)
            cpu = wait_with_rusage(proc, 120) - cpu_before
        except BaseException:
            if proc.returncode is None:
                proc.kill()
            raise
        files = collector.measure_files(workdir)
        stored, extra = collector.stored_flows(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    flows = sent["flows"]
    return {
        "load1": load_before, "collector": collector.name, "protocol": protocol,
        "target_rate": rate, "sent_rate": round(sent["flows_per_s"]), "flows": flows,
        "stored": stored, "loss": max(0.0, 1.0 - stored / flows) if flows else 0.0,
        "cpu_s": round(cpu, 3), "cpu_ns_per_flow": round(cpu * 1e9 / flows, 1) if flows else 0,
        "bytes_per_flow": round(files["data_bytes"] / stored, 2) if stored else None,
        "peak_rss_mib": round(hwm_kib / 1024, 1), "exit_code": proc.returncode,
        "drain_s": round(drain_s, 1), "backlog_at_stop": backlog,
        **files, **extra,
    }


def describe(trial):
    extra = {k: trial[k] for k in ("kernel_drops", "dropped_queue_full", "not_written", "open_files",
                                    "backlog_at_stop", "drain_s", "store_stats_flows", "note")
             if trial.get(k)}
    return (f"  {trial['protocol']:5} {trial['collector']:14} target {trial['target_rate'] / 1e6:5.2f} M/s "
            f"sent {trial['sent_rate'] / 1e6:5.2f} M/s loss {trial['loss'] * 100:7.3f}% "
            f"cpu {trial['cpu_ns_per_flow']:7.1f} ns/flow disk {trial['bytes_per_flow']} B/flow "
            f"rss {trial['peak_rss_mib']} MiB load {trial['load1']:.1f} exit {trial['exit_code']} {extra or ''}")


def sweep(collectors, args, blast, repeat_idx, trials):
    for protocol in args.protocols.split(","):
        for collector in collectors:
            lossy = 0
            for rate in args.rate_list:
                trial = run_trial(collector, blast, protocol, rate, args.duration, args.settle, args.seed)
                trial["repeat"] = repeat_idx
                trial["part"] = "sweep"
                trials.append(trial)
                print(describe(trial), flush=True)
                if trial["loss"] > 0:
                    lossy += 1
                    if lossy >= 2:
                        break


def best_of(trials):
    """Highest loss-free trial below the first lossy rate, and the first lossy trial."""
    lossy = [t for t in trials if t["loss"] > 0]
    limit = lossy[0]["target_rate"] if lossy else float("inf")
    clean = [t for t in trials if t["loss"] == 0 and t["target_rate"] < limit]
    return (max(clean, key=lambda t: t["sent_rate"]) if clean else None), (lossy[0] if lossy else None)


def print_sweep_table(trials, collectors, args):
    repeats = sorted({t["repeat"] for t in trials})
    reference = collectors[0].name
    print()
    print("| protocol | collector | highest loss-free rate, each sweep (flows/s) | CPU there (ns/flow) "
          f"| CPU at {args.common_rate / 1e6:g} M flows/s (ns/flow) | disk (B/flow) | peak RSS (MiB) "
          "| first lossy rate: loss |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for protocol in args.protocols.split(","):
        for collector in collectors:
            bests, firsts = [], []
            for repeat in repeats:
                mine = [t for t in trials if t["protocol"] == protocol and t["collector"] == collector.name
                        and t["repeat"] == repeat]
                best, first = best_of(mine)
                bests.append(best)
                firsts.append(first)
            common = [t for t in trials if t["protocol"] == protocol and t["collector"] == collector.name
                      and t["target_rate"] == args.common_rate and t["loss"] == 0]
            rates = " / ".join(f"{b['sent_rate'] / 1e6:.2f} M" if b else "none" for b in bests)
            cpu = " / ".join(f"{b['cpu_ns_per_flow']:.0f}" if b else "-" for b in bests)
            cpu_common = " / ".join(f"{t['cpu_ns_per_flow']:.0f}" for t in common) or "-"
            disk = sorted(b["bytes_per_flow"] for b in bests if b and b["bytes_per_flow"])
            rss = max((b["peak_rss_mib"] for b in bests if b), default=None)
            lossy = " / ".join(f"{f['sent_rate'] / 1e6:.2f} M: {f['loss'] * 100:.2f} %" if f else "none"
                               for f in firsts)
            print(f"| {protocol} | {collector.name} | {rates} | {cpu} | {cpu_common} | "
                  f"{disk[len(disk) // 2] if disk else '-'} | {rss if rss is not None else '-'} | {lossy} |")
    # Ratios to the first collector (sluice), per protocol, from the medians above.
    print()
    print(f"Ratios of each collector to {reference} (loss-free rate: best sweep of each; "
          f"CPU: median at {args.common_rate / 1e6:g} M flows/s; disk: at the highest loss-free rate):")
    for protocol in args.protocols.split(","):
        def summary(name):
            mine = [t for t in trials if t["protocol"] == protocol and t["collector"] == name]
            bests = [best_of([t for t in mine if t["repeat"] == r])[0] for r in repeats]
            bests = [b for b in bests if b]
            common = sorted(t["cpu_ns_per_flow"] for t in mine
                            if t["target_rate"] == args.common_rate and t["loss"] == 0)
            disk = sorted(b["bytes_per_flow"] for b in bests if b["bytes_per_flow"])
            return (max((b["sent_rate"] for b in bests), default=None),
                    common[len(common) // 2] if common else None, disk[len(disk) // 2] if disk else None)
        ref = summary(reference)
        for collector in collectors[1:]:
            other = summary(collector.name)
            parts = []
            for label, mine, theirs, higher_is_better in (("loss-free rate", ref[0], other[0], True),
                                                          ("CPU/flow", ref[1], other[1], False),
                                                          ("bytes/flow", ref[2], other[2], False)):
                if mine and theirs:
                    factor = mine / theirs if higher_is_better else theirs / mine
                    parts.append(f"{label} equal" if abs(factor - 1) < 0.005
                                 else f"{label} {factor:.2f}x in sluice's favour" if factor > 1
                                 else f"{label} {1 / factor:.2f}x in {collector.name}'s favour")
            print(f"- {protocol}, {reference} vs {collector.name}: " + ("; ".join(parts) or "-"))


def print_compare_table(trials, collectors, args):
    print()
    print(f"Same flows at {args.compare_rate / 1e6:g} M flows/s for {args.compare_duration:g} s "
          f"(seed {args.seed}), each collector stopped by SIGTERM once it had read everything "
          "(CPU at this low rate is mostly per-wake-up cost, not per flow):")
    print()
    print("| protocol | collector | flows stored / sent | data files | bytes on disk | bytes/flow "
          "| vs sluice zstd | collector CPU (ns/flow) | behind at the end (s) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for protocol in args.protocols.split(","):
        mine = [t for t in trials if t["protocol"] == protocol]
        reference = next((t for t in mine if t["collector"] == "sluice zstd" and t["stored"]), None)
        for trial in mine:
            ratio = (f"{trial['bytes_per_flow'] / reference['bytes_per_flow']:.2f}x"
                     if reference and trial["bytes_per_flow"] else "-")
            lost = "" if trial["loss"] == 0 else f" (LOSS {trial['loss'] * 100:.2f} %)"
            open_note = f", {trial['open_files']} left open" if trial["open_files"] else ""
            print(f"| {protocol} | {trial['collector']} | {trial['stored']:,} / {trial['flows']:,}{lost} | "
                  f"{trial['data_files']}{open_note} | {trial['data_bytes']:,} | {trial['bytes_per_flow']} | "
                  f"{ratio} | {trial['cpu_ns_per_flow']:.0f} | {max(0.0, trial['drain_s'] - 0.3):.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.environ.get("SLUICE_BUILD_DIR", "build/release"))
    parser.add_argument("--protocols", default="v5,v9,ipfix")
    parser.add_argument("--rates", default="250000,500000,1000000,1500000,2000000,3000000,4500000,6000000",
                        help="flows/s, rising; a collector stops at its second lossy rate")
    parser.add_argument("--common-rate", type=int, default=500000,
                        help="a rate of the list where CPU per flow is compared side by side")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per sweep trial")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to wait after sending")
    parser.add_argument("--repeat", type=int, default=2, help="sweeps (the machine is noisy)")
    parser.add_argument("--sweep-collectors", default="sluice-zstd,nfcapd,nfcapd-lz4")
    parser.add_argument("--compare-rate", type=int, default=30000,
                        help="flows/s; low enough for nfcapd -j (bzip2), the slowest")
    parser.add_argument("--compare-duration", type=float, default=30.0)
    parser.add_argument("--compare-collectors",
                        default="sluice-zstd,sluice-lz4,sluice-none,nfcapd,nfcapd-lz4,nfcapd-bzip2")
    parser.add_argument("--seed", type=int, default=1, help="sluice-blast --seed")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--short", action="store_true",
                        help="quick run: v9 only, 2 rates, 2 s trials, one sweep, 3 s comparison")
    parser.add_argument("--json-out", default="", help="also write every trial as JSON here")
    args = parser.parse_args()
    if args.short:
        args.protocols, args.rates, args.common_rate = "v9", "250000,1000000", 250000
        args.duration, args.repeat = 2.0, 1
        args.compare_rate, args.compare_duration = 30000, 5.0
    args.rate_list = [int(rate) for rate in args.rates.split(",")]

    sluice = os.path.join(args.build_dir, "apps/sluice/sluice")
    blast = os.path.join(args.build_dir, "tools/flowblast/sluice-blast")
    for path in (sluice, blast):
        if not os.access(path, os.X_OK):
            sys.exit(f"store_bench: {path} not found; build first (make build)")
    if not shutil.which("nfcapd") or not shutil.which("nfdump"):
        sys.exit("store_bench: nfcapd/nfdump not installed (apt-get install nfdump)")
    available = {
        "sluice-zstd": SluiceStore(sluice, "zstd"),
        "sluice-zstd-2w": SluiceStore(sluice, "zstd", writer_threads=2),
        "sluice-zstd-nogro": SluiceStore(sluice, "zstd", receive_offload=False),
        "sluice-zstd-level1": SluiceStore(sluice, "zstd", zstd_level=1),
        "sluice-zstd-2w-nogro": SluiceStore(sluice, "zstd", writer_threads=2, receive_offload=False),
        "sluice-lz4": SluiceStore(sluice, "lz4"),
        "sluice-none": SluiceStore(sluice, "none"),
        "nfcapd": Nfcapd("", "uncompressed"),
        "nfcapd-lz4": Nfcapd("-y", "-y (lz4)"),
        "nfcapd-bzip2": Nfcapd("-j", "-j (bzip2)"),
    }
    sweep_collectors = [available[name] for name in args.sweep_collectors.split(",") if name]
    compare_collectors = [available[name] for name in args.compare_collectors.split(",") if name]

    nfcapd_version = subprocess.run(["nfcapd", "-V"], capture_output=True, text=True).stdout.strip()
    print("# Other processes compete for the same cores: 'load' is the 1-min load average before"
          " each trial.")
    print(f"# store benchmark: {os.cpu_count()} CPUs, {args.duration:g} s per sweep trial, "
          f"{args.repeat} sweep(s), seed {args.seed}, {nfcapd_version}, uid {os.getuid()}", flush=True)
    trials = []
    if not args.skip_sweep:
        for repeat_idx in range(args.repeat):
            print(f"# sweep {repeat_idx + 1} of {args.repeat}", flush=True)
            sweep(sweep_collectors, args, blast, repeat_idx, trials)
    compare = []
    if not args.skip_compare:
        print(f"# compression: {args.compare_rate / 1e6:g} M flows/s for {args.compare_duration:g} s", flush=True)
        for protocol in args.protocols.split(","):
            for collector in compare_collectors:
                trial = run_trial(collector, blast, protocol, args.compare_rate, args.compare_duration,
                                  args.settle, args.seed, drain=True)
                trial["part"] = "compare"
                compare.append(trial)
                print(describe(trial), flush=True)
    if args.json_out:
        with open(args.json_out, "w") as out:
            json.dump(trials + compare, out, indent=1)

    if trials:
        print_sweep_table(trials, sweep_collectors, args)
    if compare:
        print_compare_table(compare, compare_collectors, args)
    print()
    print("Commands (PORT is a free port chosen per trial, WORKDIR a fresh temporary directory):")
    for collector in {c.name: c for c in sweep_collectors + compare_collectors}.values():
        print("  " + " ".join(collector.command("PORT", "WORKDIR")))
    print("  (sluice lz4/none: WORKDIR/sluice.toml holds [store] compression = \"lz4\" or \"none\")")
    print(f"  {blast} --to 127.0.0.1:PORT --protocol v5|v9|ipfix --rate RATE --duration SECONDS "
          f"--exporters 4 --seed {args.seed} --json")


if __name__ == "__main__":
    main()
