#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential test: `sluice query` against nfdump on the same flows.

Builds a deterministic capture with sluice-blast (NetFlow v9, IPFIX and v5), appends
the real exporter captures of captures.txt, replays the same datagrams to nfcapd and
to `sluice serve`, checks both stored the same flows, then runs every filter of
filters.txt and every query of queries.txt through `nfdump` and `sluice query` and
compares the answers (see README.md for what is compared and how ties are handled).

Exit status: 0 all comparisons agree (or disagree only as known_differences.txt
allows), 1 a mismatch, 77 skipped (nfdump/nfcapd or `sluice query` not available).
Results: OUT/results.tsv (one line per comparison) and OUT/results.json.
"""

import argparse
import concurrent.futures
import datetime
import fnmatch
import ipaddress
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))

# The synthetic capture: (protocol, flows, exporters, seed). Its clock starts at
# START_MS (2025-11-23 12:00:00 UTC) and runs at RATE flows/s, so the -t windows of
# queries.txt are fixed.
SYNTHETIC = [("v9", 30000, 2, 11), ("ipfix", 20000, 2, 12), ("v5", 10000, 2, 13)]
START_MS = 1763899200000
RATE = 1000
REPLAY_DATAGRAMS_PER_S = 20000

PROTO_NAMES = {"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17, "ipv6": 41, "rsvp": 46,
               "gre": 47, "esp": 50, "ah": 51, "icmp6": 58, "ipv6-icmp": 58, "ospf": 89,
               "pim": 103, "sctp": 132}


def log(message):
    print(message, flush=True)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_list(path):
    """Non-empty lines of `path` without comments (a '#' at the start of a line)."""
    lines = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line.strip())
    return lines


def run(argv, env, timeout=120):
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


def command_text(argv):
    return " ".join(shlex.quote(arg) for arg in argv)


# ----------------------------------------------------------------------------------
# Value normalisation: both tools' keys become the same text.

def norm_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(int(value))
    text = str(value).strip()
    if "/" in text:  # "10.1.2.0/24" (sluice, prefix keys) vs "10.1.2.0" (nfdump)
        head, _, tail = text.partition("/")
        if tail.isdigit():
            text = head
    try:
        address = ipaddress.ip_address(text)
        if address.version == 6 and 0xFFFF < int(address) < 1 << 32:
            # nfcapd 1.7.1 keeps the IPv4 addresses of some v9 templates (IOS XR) as
            # IPv4-compatible IPv6 "::a.b.c.d"; Sluice keeps them IPv4.
            address = ipaddress.ip_address(int(address))
        return str(address)
    except ValueError:
        pass
    if text.isdigit():
        return str(int(text))
    mpls = re.fullmatch(r"(\d+)-\d+-\d+", text)  # nfdump's MPLS "label-exp-eos"
    if mpls:
        return str(int(mpls.group(1)))
    if text.lower() in PROTO_NAMES:
        return str(PROTO_NAMES[text.lower()])
    return text.lower()


def parse_time(text):
    """ms since the epoch from 'YYYY-MM-DD hh:mm:ss[.mmm]' or ISO-8601 (UTC)."""
    if text is None or text == "":
        return 0
    text = str(text).strip().replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            moment = datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc)
            return int(round(moment.timestamp() * 1000))
        except ValueError:
            continue
    return 0


def derived(order, packets, bytes_, duration_ms):
    """nfdump's derived order values (integers, 0 for flows without duration)."""
    if order == "bpp":
        return bytes_ // packets if packets else 0
    if duration_ms <= 0:
        return 0
    if order == "pps":
        return int(packets * 1000 / duration_ms)
    if order == "bps":
        return int(bytes_ * 8000 / duration_ms)
    return 0


class Row:
    """One keyed row of a statistic or aggregation: counters and its order value."""

    def __init__(self, key, flows, packets, bytes_, duration_ms, order_value=None):
        self.key = key
        self.flows = flows  # None when the tool does not print it
        self.packets = packets
        self.bytes = bytes_
        self.duration_ms = duration_ms
        self.order_value = order_value

    def counters(self):
        return {"flows": self.flows, "packets": self.packets, "bytes": self.bytes}


def order_value(row, order):
    if order in ("flows", "packets", "bytes"):
        value = getattr(row, order)
        return value if value is not None else 0
    if row.order_value is not None:
        return row.order_value
    return derived(order, row.packets, row.bytes, row.duration_ms)


# ----------------------------------------------------------------------------------
# nfdump output (-N -o csv).

def csv_blocks(text):
    """nfdump -o csv output as a list of (header, rows) blocks and the Summary dict."""
    blocks = []
    summary = None
    lines = [line for line in text.splitlines()]
    idx = 0
    while idx < len(lines):
        line = lines[idx].strip()
        if line == "Summary" and idx + 2 < len(lines):
            names = lines[idx + 1].split(",")
            values = lines[idx + 2].split(",")
            summary = {name.strip(): int(float(value)) for name, value in zip(names, values)}
            idx += 3
            continue
        if line.startswith("ts,te,td,"):
            header = [name.strip() for name in line.split(",")]
            rows = []
            idx += 1
            while idx < len(lines) and lines[idx].strip() and not lines[idx].startswith("ts,") \
                    and lines[idx].strip() != "Summary":
                fields = [field.strip() for field in lines[idx].split(",")]
                if len(fields) >= len(header):  # not a message such as "No matching flows"
                    rows.append(fields)
                idx += 1
            blocks.append((header, rows))
            continue
        idx += 1
    return blocks, summary


def nfdump_stat_rows(header, rows, split_proto, order):
    col = {name: pos for pos, name in enumerate(header)}
    out = []
    for fields in rows:
        get = lambda *names: next((fields[col[n]] for n in names if n in col), "0")
        key = norm_value(get("val"))
        if split_proto:
            key = norm_value(get("pr")) + "|" + key
        value = None
        if order in ("pps", "bps", "bpp"):
            value = int(float(get(order, "i" + order)))
        out.append(Row(key, int(get("fl")), int(get("pkt", "ipkt")), int(get("byt", "ibyt")),
                       int(round(float(get("td")) * 1000)), value))
    return out


# nfdump -A element -> (csv column, sluice catalogue field)
AGG_ELEMENTS = {
    "proto": ("pr", "proto"), "srcip": ("sa", "src_addr"), "dstip": ("da", "dst_addr"),
    "srcport": ("sp", "src_port"), "dstport": ("dp", "dst_port"), "srcas": ("sas", "src_as"),
    "dstas": ("das", "dst_as"), "inif": ("in", "in_if"), "outif": ("out", "out_if"),
    "tos": ("stos", "tos"), "srctos": ("stos", "tos"), "next": ("nh", "next_hop"),
    "srcmask": ("smk", "src_mask"), "dstmask": ("dmk", "dst_mask"),
    "srcvlan": ("svln", "vlan"), "router": ("ra", "exporter"),
    "insrcmac": ("ismc", "src_mac"), "indstmac": ("idmc", "dst_mac"),
    "srcnet": ("sa", "src_addr"), "dstnet": ("da", "dst_addr"),
    "xsrcip": ("xsa", "xlate_src_addr"), "xdstip": ("xda", "xlate_dst_addr"),
    "xsrcport": ("xsp", "xlate_src_port"), "xdstport": ("xdp", "xlate_dst_port"),
}


def agg_elements(args):
    """The -A elements of a query (the 5-tuple for -a and -b/-B)."""
    elements = []
    for pos, arg in enumerate(args):
        if arg == "-A" and pos + 1 < len(args):
            elements = [part.split("/")[0] for part in args[pos + 1].split(",")]
            elements = ["srcip" if e.startswith("srcip") else "dstip" if e.startswith("dstip")
                        else e for e in elements]
    if not elements:
        elements = ["srcip", "dstip", "srcport", "dstport", "proto"]
    return elements


def nfdump_agg_rows(header, rows, elements, bidirectional):
    col = {name: pos for pos, name in enumerate(header)}
    out = []
    for fields in rows:
        parts = [norm_value(fields[col[AGG_ELEMENTS[e][0]]]) if AGG_ELEMENTS.get(e, ("",))[0] in col
                 else "?" for e in elements]
        packets = int(fields[col["ipkt"]])
        bytes_ = int(fields[col["ibyt"]])
        if bidirectional:
            packets += int(fields[col["opkt"]])
            bytes_ += int(fields[col["obyt"]])
            parts = canonical_pair(parts, elements)
        out.append(Row("|".join(parts), None, packets, bytes_,
                       int(round(float(fields[col["td"]]) * 1000))))
    return out


def guessed_direction_problems(header, rows, json_rows, elements):
    """-B: where nfdump 1.7.1's guess fixes the direction (a TCP or UDP record whose
    source port is >= 1024 and destination port < 1024 reads client -> server), Sluice's
    record of the same connection must read the same way. Other records keep the
    direction of the first flow nfdump saw, which Sluice need not reproduce."""
    try:
        at = {e: elements.index(e) for e in ("srcip", "dstip", "srcport", "dstport", "proto")}
    except ValueError:
        return []
    col = {name: pos for pos, name in enumerate(header)}
    expected = {}
    for fields in rows:
        parts = [norm_value(fields[col[AGG_ELEMENTS[e][0]]]) if AGG_ELEMENTS.get(e, ("",))[0] in col
                 else "?" for e in elements]
        try:
            sp, dp = int(parts[at["srcport"]]), int(parts[at["dstport"]])
        except ValueError:
            continue
        if parts[at["proto"]] in ("6", "17") and sp >= 1024 and dp < 1024:
            expected["|".join(canonical_pair(parts, elements))] = "|".join(parts)
    problems = []
    for item in json_rows:
        key = sluice_key(item.get("key", {}), False, elements)
        canonical = "|".join(canonical_pair(key.split("|"), elements))
        if canonical in expected and expected[canonical] != key:
            problems.append(f"direction of {canonical}: nfdump {expected[canonical]}, sluice {key}")
    return problems


def canonical_pair(parts, elements):
    """A bidirectional 5-tuple key in one order whichever side is first."""
    try:
        sa, da = parts[elements.index("srcip")], parts[elements.index("dstip")]
        sp, dp = parts[elements.index("srcport")], parts[elements.index("dstport")]
        proto = parts[elements.index("proto")]
    except ValueError:
        return parts
    ends = sorted([(sa, sp), (da, dp)])
    return [ends[0][0], ends[1][0], ends[0][1], ends[1][1], proto]


# ----------------------------------------------------------------------------------
# sluice query output (-o json, contract in README.md).

def sluice_key(key, split_proto, elements=None):
    if not isinstance(key, dict):
        return norm_value(key)
    if isinstance(key.get("mpls_label"), int):
        # nfdump 1.7.1's -s mpls1 (and `mpls label1`) use the low 12 bits of the 20-bit
        # label only (its -o json prints the whole label); compare on those.
        key = dict(key, mpls_label=key["mpls_label"] & 0xFFF)
    if elements:
        fields = [AGG_ELEMENTS.get(e, ("", e))[1] for e in elements]
        if all(field in key for field in fields):
            return "|".join(norm_value(key[field]) for field in fields)
    items = list(key.items())
    if split_proto and "proto" in key and len(items) > 1:
        rest = [norm_value(v) for name, v in items if name != "proto"]
        return norm_value(key["proto"]) + "|" + "|".join(rest)
    return "|".join(norm_value(value) for _, value in items)


def sluice_rows(json_rows, split_proto, elements=None, bidirectional=False):
    out = []
    for item in json_rows:
        key = sluice_key(item.get("key", {}), split_proto, elements)
        if bidirectional and elements:
            key = "|".join(canonical_pair(key.split("|"), elements))
        duration = max(0, parse_time(item.get("last")) - parse_time(item.get("first")))
        out.append(Row(key, item.get("flows"), item.get("packets", 0), item.get("bytes", 0),
                       duration))
    return out


# ----------------------------------------------------------------------------------
# Comparisons.

def compare_top(nf_rows, sl_rows, order, top_n, ascending=False):
    """Problems (list of text) comparing two top-N lists; ties may come in any order and
    the cut at N may fall inside a tie group."""
    problems = []
    if len(nf_rows) != len(sl_rows):
        problems.append(f"row count: nfdump {len(nf_rows)}, sluice {len(sl_rows)}")
    nf_by_key = {row.key: row for row in nf_rows}
    sl_by_key = {row.key: row for row in sl_rows}
    if len(nf_by_key) != len(nf_rows):
        problems.append("nfdump repeats a key")
    if len(sl_by_key) != len(sl_rows):
        problems.append("sluice repeats a key")
    for key, nf_row in nf_by_key.items():
        sl_row = sl_by_key.get(key)
        if sl_row is None:
            continue
        for name, nf_value in nf_row.counters().items():
            sl_value = sl_row.counters()[name]
            if nf_value is not None and sl_value is not None and nf_value != sl_value:
                problems.append(f"key {key}: {name} nfdump {nf_value}, sluice {sl_value}")
    full = top_n > 0 and len(nf_rows) == top_n and len(sl_rows) == top_n
    nf_cut = order_value(nf_rows[-1], order) if nf_rows else None
    sl_cut = order_value(sl_rows[-1], order) if sl_rows else None
    for side, rows, other, cut in (("nfdump", nf_rows, sl_by_key, nf_cut),
                                   ("sluice", sl_rows, nf_by_key, sl_cut)):
        for row in rows:
            if row.key in other:
                continue
            if full and order_value(row, order) == cut and nf_cut == sl_cut:
                continue  # both lists end inside the same tie group
            problems.append(f"key {row.key} only in {side} ({order} {order_value(row, order)},"
                            f" packets {row.packets}, bytes {row.bytes})")
    values = [order_value(row, order) for row in sl_rows]
    wanted = sorted(values, reverse=not ascending)
    if values != wanted:
        problems.append(f"sluice rows are not ordered by {order}")
    if order in ("flows", "packets", "bytes"):
        nf_values = [order_value(row, order) for row in nf_rows]
        if nf_values != values and not problems:
            problems.append(f"{order} sequence differs: nfdump {nf_values[:5]}..., "
                            f"sluice {values[:5]}...")
    return problems


def first_problems(problems, limit=8):
    text = "; ".join(problems[:limit])
    if len(problems) > limit:
        text += f"; ... {len(problems) - limit} more"
    return text


AS_LIST = re.compile(r"\b(src\s+|dst\s+)?as\s+in\s+\[([^\]]*)\]", re.I)
AS_COMPARE = re.compile(r"\b(src\s+|dst\s+)?as\s*(==|=|>=|<=|>|<|eq|gt|lt|ge|le)?\s*(\d+)\b",
                        re.I)
COMPARATORS = {"": "==", "=": "==", "==": "==", "eq": "==", "gt": ">", "lt": "<", "ge": ">=",
               "le": "<=", ">": ">", "<": "<", ">=": ">=", "<=": "<="}


def as_expression(filter_text):
    """A Python expression over `sas`/`das` equal to an nfdump filter made only of AS
    primitives, and/or/not and parentheses; None for any other filter."""
    def sides(side):
        side = (side or "").strip().lower()
        return ["sas"] if side == "src" else ["das"] if side == "dst" else ["sas", "das"]

    def in_list(match):
        values = "{" + ",".join(str(int(v)) for v in re.split(r"[\s,]+", match.group(2).strip())
                                if v) + "}"
        return "(" + " or ".join(f"{s} in {values}" for s in sides(match.group(1))) + ")"

    def compare(match):
        op = COMPARATORS[(match.group(2) or "").lower()]
        return "(" + " or ".join(f"{s} {op} {int(match.group(3))}"
                                 for s in sides(match.group(1))) + ")"

    text = AS_COMPARE.sub(compare, AS_LIST.sub(in_list, filter_text))
    rest = re.sub(r"\b(sas|das|and|or|not|in)\b|[0-9{}(),<>=\s]", "", text)
    return text if rest == "" else None


class Context:
    def __init__(self, opts, nf_dir, sl_dir, env):
        self.opts = opts
        self.nf_dir = nf_dir
        self.sl_dir = sl_dir
        self.env = env
        self._lock = threading.Lock()
        self._as_rows = None

    def as_rows(self):
        """(sas, das, packets, bytes) of every flow nfcapd stored, from `nfdump -o csv`."""
        with self._lock:
            if self._as_rows is None:
                rc, out, err, _ = run([self.opts.nfdump, "-R", self.nf_dir, "-N", "-o", "csv",
                                       "-c", "100000000"], self.env)
                if rc != 0:
                    raise RuntimeError(f"nfdump record dump failed: {err}")
                lines = out.splitlines()
                col = {name: pos for pos, name in enumerate(lines[0].split(","))}
                rows = []
                for line in lines[1:]:
                    fields = line.split(",")
                    if len(fields) < len(col) or not fields[0][:1].isdigit():
                        continue
                    rows.append((int(fields[col["sas"]]), int(fields[col["das"]]),
                                 int(fields[col["ipkt"]]), int(fields[col["ibyt"]])))
                self._as_rows = rows
            return self._as_rows

    def nfdump(self, args, filter_text):
        argv = [self.opts.nfdump, "-R", self.nf_dir, "-N"] + args
        if filter_text:
            argv.append(filter_text)
        return argv

    def sluice(self, args, filter_text):
        argv = [self.opts.sluice, "query", "--data", self.sl_dir] + args
        if filter_text:
            argv.append(filter_text)
        return argv


def result(cid, kind, status, nf_argv, sl_argv, detail, nfdump_value="", sluice_value=""):
    return {"id": cid, "text": "", "kind": kind, "status": status, "nfdump": nfdump_value,
            "sluice": sluice_value, "detail": detail,
            "nfdump_command": command_text(nf_argv), "sluice_command": command_text(sl_argv)}


def run_pair(ctx, nf_argv, sl_argv):
    nf = run(nf_argv, ctx.env)
    sl = run(sl_argv, ctx.env)
    return nf, sl


def load_sluice_json(stdout):
    try:
        return json.loads(stdout), None
    except ValueError as error:
        return None, f"sluice output is not JSON ({error}): {stdout[:200]!r}"


def check_filter(ctx, cid, filter_text, records):
    """Totals (flows, packets, bytes) of one filter; with `records`, the flow sets too."""
    nf_argv = ctx.nfdump(["-o", "csv", "-s", "proto", "-n", "1"], filter_text)
    sl_argv = ctx.sluice(["-o", "json", "-s", "proto", "-n", "1"], filter_text)
    (nf_rc, nf_out, nf_err, _), (sl_rc, sl_out, sl_err, sl_s) = run_pair(ctx, nf_argv, sl_argv)
    out = []
    expression = as_expression(filter_text)
    if nf_rc != 0 and "geo location DB" in nf_out + nf_err and expression:
        # nfdump 1.7.1 rejects AS primitives without a geo DB: evaluate them on its dump.
        code = compile(expression, "<filter>", "eval")
        nf_summary = {"flows": 0, "packets": 0, "bytes": 0}
        for sas, das, packets, bytes_ in ctx.as_rows():
            if eval(code, {}, {"sas": sas, "das": das}):  # pylint: disable=eval-used
                nf_summary["flows"] += 1
                nf_summary["packets"] += packets
                nf_summary["bytes"] += bytes_
        nf_argv = [ctx.opts.nfdump, "-R", ctx.nf_dir, "-N", "-q", "-o", "csv", "#", expression]
        nf_rc, nf_out = 0, ""
        records = False
    else:
        nf_summary = None
    if nf_rc != 0:
        out.append(result(cid, "filter", "nfdump-error", nf_argv, sl_argv,
                          (nf_err or nf_out).strip()[:300]))
        return out
    if nf_summary is None:
        _, nf_summary = csv_blocks(nf_out)
    if nf_summary is None:
        nf_summary = {"flows": 0, "packets": 0, "bytes": 0}
    nf_totals = (nf_summary["flows"], nf_summary["packets"], nf_summary["bytes"])
    if sl_rc != 0:
        out.append(result(cid, "filter", "fail", nf_argv, sl_argv,
                          f"sluice exit {sl_rc}: {sl_err.strip()[:300]}", nf_totals, "error"))
        return out
    doc, error = load_sluice_json(sl_out)
    if error:
        out.append(result(cid, "filter", "fail", nf_argv, sl_argv, error, nf_totals, "bad json"))
        return out
    summary = doc.get("summary", {})
    sl_totals = (summary.get("flows"), summary.get("packets"), summary.get("bytes"))
    status = "pass" if nf_totals == sl_totals else "fail"
    detail = f"flows,packets,bytes; sluice {sl_s:.2f}s"
    out.append(result(cid, "filter", status, nf_argv, sl_argv, detail, nf_totals, sl_totals))
    if records and status == "pass" and nf_totals[0] <= ctx.opts.max_record_compare:
        out.append(check_records(ctx, cid + "/records", filter_text))
    return out


def flow_identity(proto, src, dst, sport, dport, icmp_type, icmp_code, packets, bytes_, first,
                  last):
    """What both collectors store the same way for one flow. Times are left out of it for
    flows without times of their own (nfcapd stores 0, Sluice the export time)."""
    proto = int(proto)
    if proto in (1, 58):
        ports = (int(icmp_type or 0), int(icmp_code or 0))
    else:
        ports = (int(sport or 0), int(dport or 0))
    return (proto, norm_value(src), norm_value(dst), ports, int(packets), int(bytes_), first,
            last)


def json_objects(text):
    """The objects of nfdump's -o json output: an array, or with -q objects separated by
    commas."""
    decoder = json.JSONDecoder()
    objects = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,[]":
            pos += 1
        if pos >= len(text):
            return objects
        item, pos = decoder.raw_decode(text, pos)
        objects.append(item)


def check_records(ctx, cid, filter_text):
    """The flows themselves: the multisets of (proto, addresses, ports or ICMP type/code,
    packets, bytes, first ms, last ms) must be equal."""
    nf_argv = ctx.nfdump(["-q", "-o", "json"], filter_text)
    sl_argv = ctx.sluice(["-o", "ndjson"], filter_text)
    (nf_rc, nf_out, nf_err, _), (sl_rc, sl_out, sl_err, _) = run_pair(ctx, nf_argv, sl_argv)
    if nf_rc != 0:
        return result(cid, "records", "nfdump-error", nf_argv, sl_argv, nf_err.strip()[:300])
    if sl_rc != 0:
        return result(cid, "records", "fail", nf_argv, sl_argv,
                      f"sluice exit {sl_rc}: {sl_err.strip()[:300]}")
    nf_set = {}
    try:
        nf_records = json_objects(nf_out) if "{" in nf_out else []  # "No matching flows"
    except ValueError as error:
        return result(cid, "records", "nfdump-error", nf_argv, sl_argv, f"bad json: {error}")
    timeless = set()
    for rec in nf_records:
        if parse_time(rec.get("first")) == 0:
            timeless.add((rec.get("proto", 0), rec.get("src_port"), rec.get("dst_port"),
                          rec.get("in_packets", 0), rec.get("in_bytes", 0)))
    for rec in nf_records:
        ident = flow_identity(rec.get("proto", 0), rec.get("src4_addr", rec.get("src6_addr")),
                              rec.get("dst4_addr", rec.get("dst6_addr")), rec.get("src_port"),
                              rec.get("dst_port"), rec.get("icmp_type"), rec.get("icmp_code"),
                              rec.get("in_packets", 0), rec.get("in_bytes", 0),
                              parse_time(rec.get("first")), parse_time(rec.get("last")))
        nf_set[ident] = nf_set.get(ident, 0) + 1
    sl_set = {}
    for line in sl_out.splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as error:
            return result(cid, "records", "fail", nf_argv, sl_argv, f"bad ndjson line: {error}")
        if "summary" in rec and len(rec) == 1:
            continue
        first = rec.get("first")
        last = rec.get("last")
        first = first if isinstance(first, int) else parse_time(first)
        last = last if isinstance(last, int) else parse_time(last)
        if (rec.get("proto", 0), rec.get("src_port"), rec.get("dst_port"), rec.get("packets", 0),
                rec.get("bytes", 0)) in timeless:
            first = last = 0
        ident = flow_identity(rec.get("proto", 0), rec.get("src_addr"), rec.get("dst_addr"),
                              rec.get("src_port"), rec.get("dst_port"), rec.get("icmp_type"),
                              rec.get("icmp_code"), rec.get("packets", 0), rec.get("bytes", 0),
                              first, last)
        sl_set[ident] = sl_set.get(ident, 0) + 1
    only_nf = [(k, v) for k, v in nf_set.items() if sl_set.get(k, 0) != v]
    only_sl = [(k, v) for k, v in sl_set.items() if nf_set.get(k, 0) != v]
    counts = (sum(nf_set.values()), sum(sl_set.values()))
    if not only_nf and not only_sl:
        return result(cid, "records", "pass", nf_argv, sl_argv, "same flows", counts[0],
                      counts[1])
    detail = f"{len(only_nf)} nfdump flows unmatched, e.g. {only_nf[:2]}; " \
             f"{len(only_sl)} sluice flows unmatched, e.g. {only_sl[:2]}"
    return result(cid, "records", "fail", nf_argv, sl_argv, detail, counts[0], counts[1])


def query_shape(args):
    """(kind, order, top_n, split_proto, ascending) of a queries.txt line's options."""
    order = "flows"
    top_n = 10
    kind = "summary"
    split_proto = False
    for pos, arg in enumerate(args):
        value = args[pos + 1] if pos + 1 < len(args) else ""
        if arg == "-s":
            kind = "stat"
            name, _, orders = value.partition("/")
            split_proto = name.endswith(":p")
            if orders:
                order = orders.split("/")[0]
        elif arg in ("-A", "-a"):
            kind = "aggregate"
        elif arg in ("-b", "-B"):
            kind = "bidirectional"
        elif arg == "-O":
            order = value
        elif arg == "-n":
            top_n = int(value)
    if kind in ("aggregate", "bidirectional") and "-O" not in args:
        order = "tstart"
    return kind, order, top_n, split_proto, order in ("tstart", "tend")


def check_query(ctx, cid, args, filter_text):
    kind, order, top_n, split_proto, ascending = query_shape(args)
    nf_argv = ctx.nfdump(["-o", "csv"] + args, filter_text)
    sl_argv = ctx.sluice(["-o", "json"] + args, filter_text)
    (nf_rc, nf_out, nf_err, _), (sl_rc, sl_out, sl_err, sl_s) = run_pair(ctx, nf_argv, sl_argv)
    if nf_rc != 0:
        return result(cid, kind, "nfdump-error", nf_argv, sl_argv, nf_err.strip()[:300])
    if sl_rc != 0:
        return result(cid, kind, "fail", nf_argv, sl_argv,
                      f"sluice exit {sl_rc}: {sl_err.strip()[:300]}")
    doc, error = load_sluice_json(sl_out)
    if error:
        return result(cid, kind, "fail", nf_argv, sl_argv, error)
    blocks, nf_summary = csv_blocks(nf_out)
    summary = doc.get("summary", {})
    problems = []
    if nf_summary is not None:
        nf_totals = (nf_summary["flows"], nf_summary["packets"], nf_summary["bytes"])
        sl_totals = (summary.get("flows"), summary.get("packets"), summary.get("bytes"))
        if nf_totals != sl_totals:
            problems.append(f"summary nfdump {nf_totals}, sluice {sl_totals}")
    elements = None
    if kind == "stat":
        stats = doc.get("stats", [])
        if not stats:
            problems.append("sluice printed no stats")
            sl = []
        else:
            sl = sluice_rows(stats[0].get("rows", []), split_proto)
        nf = nfdump_stat_rows(*blocks[0], split_proto, order) if blocks else []
        if "record" in " ".join(args):
            elements = ["srcip", "dstip", "srcport", "dstport", "proto"]
            nf = nfdump_agg_rows(*blocks[0], elements, False) if blocks else []
            sl = sluice_rows(stats[0].get("rows", []) if stats else [], False, elements)
    elif kind in ("aggregate", "bidirectional"):
        elements = agg_elements(args)
        bidir = kind == "bidirectional"
        nf = nfdump_agg_rows(*blocks[0], elements, bidir) if blocks else []
        sl = sluice_rows(doc.get("records", []), False, elements, bidir)
        if "-B" in args and blocks:
            problems += guessed_direction_problems(*blocks[0], doc.get("records", []), elements)
    else:
        nf, sl = [], []
    if kind != "summary":
        if ascending:
            problems += compare_sets(nf, sl)
        else:
            problems += compare_top(nf, sl, order, top_n)
    status = "pass" if not problems else "fail"
    detail = first_problems(problems) if problems else f"{len(nf)} rows; sluice {sl_s:.2f}s"
    return result(cid, kind, status, nf_argv, sl_argv, detail, len(nf), len(sl))


def compare_sets(nf_rows, sl_rows):
    """Unordered comparison (time-ordered listings: equal start times may come in any
    order, and a cut at -n is then not comparable, so queries.txt avoids -n there)."""
    problems = []
    nf_by_key = {}
    for row in nf_rows:
        nf_by_key.setdefault(row.key, []).append((row.packets, row.bytes))
    sl_by_key = {}
    for row in sl_rows:
        sl_by_key.setdefault(row.key, []).append((row.packets, row.bytes))
    for key in sorted(set(nf_by_key) | set(sl_by_key)):
        a = sorted(nf_by_key.get(key, []))
        b = sorted(sl_by_key.get(key, []))
        if a != b:
            problems.append(f"key {key}: nfdump {a[:3]}, sluice {b[:3]}")
    if len(nf_rows) != len(sl_rows):
        problems.insert(0, f"row count: nfdump {len(nf_rows)}, sluice {len(sl_rows)}")
    return problems


# ----------------------------------------------------------------------------------
# Set-up: capture, collectors, replay.

def clear_v5_masks(path, out_path=None):
    """Zeroes src_mask/dst_mask of every NetFlow v5 record in a classic little-endian pcap
    of Ethernet/IPv4/UDP frames (as sluice-blast writes): nfcapd 1.7.1 does not store v5
    masks. Returns the path written (`path` itself without `out_path`), or None if the
    file is not such a capture."""
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    if data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") or \
            int.from_bytes(data[20:24], "little") != 1:
        return None
    pos = 24
    while pos + 16 <= len(data):
        length = int.from_bytes(data[pos + 8:pos + 12], "little")
        frame = pos + 16
        ip = frame + 14
        if data[frame + 12:frame + 14] != b"\x08\x00" or data[ip + 9] != 17:
            pos += 16 + length
            continue
        payload = ip + (data[ip] & 0x0F) * 4 + 8
        if data[payload:payload + 2] == b"\x00\x05" and payload + 24 <= frame + length:
            count = int.from_bytes(data[payload + 2:payload + 4], "big")
            for record in range(count):
                at = payload + 24 + 48 * record + 44
                if at + 2 <= frame + length:
                    data[at:at + 2] = b"\x00\x00"
        pos += 16 + length
    out_path = out_path or path
    with open(out_path, "wb") as handle:
        handle.write(data)
    return out_path


def make_capture(opts, work):
    """The two data sets: (synthetic captures, real captures, notes)."""
    files = []
    for protocol, flows, exporters, seed in SYNTHETIC:
        path = os.path.join(work, f"synthetic-{protocol}.pcap")
        argv = [opts.blast, "--write-pcap", path, "--protocol", protocol, "--flows", str(flows),
                "--exporters", str(exporters), "--seed", str(seed), "--rate", str(RATE),
                "--start-ms", str(START_MS), "--ipv6", "25"]
        if protocol == "v9":
            # nfcapd 1.7.1 takes a v9 ICMP flow's type/code only from ICMP_TYPE (field
            # 32), not from L4_DST_PORT as Sluice also does: export both (README.md).
            argv.append("--icmp-type-field")
        rc, _, err, _ = run(argv, None)
        if rc != 0:
            raise RuntimeError(f"{command_text(argv)} failed: {err}")
        if protocol == "v5":
            clear_v5_masks(path)
        files.append(path)
    notes = []
    real = []
    for rel in read_list(os.path.join(HERE, "captures.txt")):
        path = os.path.normpath(os.path.join(opts.source_dir, rel))
        if os.path.exists(path):
            copy = os.path.join(work, f"real-{len(real):02d}-{os.path.basename(path)}")
            real.append(clear_v5_masks(path, copy) or path)
        else:
            notes.append(f"capture not found, skipped: {rel}")
    return files, real, notes


def wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def collect(opts, work, files, env):
    """Replays `files` to nfcapd and to `sluice serve`; returns their data directories."""
    nf_dir = os.path.join(work, "nfcapd")
    sl_dir = os.path.join(work, "sluice")
    os.makedirs(nf_dir)
    nf_port = free_udp_port()
    nf_log = open(os.path.join(work, "nfcapd.log"), "w", encoding="utf-8")
    nfcapd = subprocess.Popen([opts.nfcapd, "-w", nf_dir, "-b", "127.0.0.1", "-p", str(nf_port),
                               "-t", "3600", "-B", "16000000"], stdout=nf_log,
                              stderr=subprocess.STDOUT, env=env)
    ready = os.path.join(work, "sluice.ready")
    sl_log = open(os.path.join(work, "sluice-serve.log"), "w", encoding="utf-8")
    serve = subprocess.Popen([opts.sluice, "serve", "--http", "off", "--data", sl_dir, "--listen", "127.0.0.1:0",
                              "--ready-file", ready, "--stats-interval", "0",
                              "--retention", "36500d", "--decode-threads", "1",
                              # Sluice scales packets/bytes by announced sampling rates;
                              # nfcapd 1.7.1 stores them unscaled: compare unscaled.
                              "--sampling", "127.0.0.1=1"],
                             stdout=sl_log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: os.path.exists(ready) and open(ready).read().strip(), 20,
                 "sluice serve to listen")
        wait_for(lambda: "Startup" in open(os.path.join(work, "nfcapd.log")).read(), 20,
                 "nfcapd to start")
        sl_addr = open(ready).read().split()[0]
        for target in (f"127.0.0.1:{nf_port}", sl_addr):
            argv = [opts.sluice, "replay"] + files + ["--to", target, "--rate",
                                                      str(REPLAY_DATAGRAMS_PER_S)]
            rc, _, err, _ = run(argv, env)
            if rc != 0:
                raise RuntimeError(f"{command_text(argv)} failed: {err}")
            log(err.strip())
        time.sleep(0.5)
    finally:
        for proc in (nfcapd, serve):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (nfcapd, serve):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        nf_log.close()
        sl_log.close()
    return nf_dir, sl_dir


def stored_counts(opts, nf_dir, sl_dir, env):
    rc, out, err, _ = run([opts.nfdump, "-R", nf_dir, "-I"], env)
    if rc != 0:
        raise RuntimeError(f"nfdump -I failed: {err}")
    nf = {}
    for line in out.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("Flows", "Packets", "Bytes"):
            nf[name.strip().lower()] = int(value)
    rc, out, err, _ = run([opts.sluice, "store", "stats", "--data", sl_dir, "--json"], env)
    if rc != 0:
        raise RuntimeError(f"sluice store stats failed: {err}")
    detail = json.loads(out)["totals"]["detail"]
    return nf.get("flows", -1), detail.get("flows", -1)


# ----------------------------------------------------------------------------------

def load_known(path):
    known = []
    if os.path.exists(path):
        for line in read_list(path):
            pattern, _, reason = line.partition("\t")
            known.append((pattern.strip(), reason.strip()))
    return known


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sluice", required=True, help="the sluice binary")
    parser.add_argument("--blast", required=True, help="the sluice-blast binary")
    parser.add_argument("--source-dir", required=True, help="repository root")
    parser.add_argument("--out", required=True, help="output directory (emptied first)")
    parser.add_argument("--nfdump", default=shutil.which("nfdump") or "nfdump")
    parser.add_argument("--nfcapd", default=shutil.which("nfcapd") or "nfcapd")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default="", help="run only comparisons whose id contains this")
    parser.add_argument("--reuse", action="store_true",
                        help="keep OUT's collected data from an earlier run (faster iteration)")
    parser.add_argument("--max-record-compare", type=int, default=20000)
    opts = parser.parse_args()

    for tool in (opts.nfdump, opts.nfcapd):
        if not shutil.which(tool):
            log(f"SKIP: {tool} is not installed (scripts/install-deps installs Debian's nfdump)")
            return SKIP
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    work = os.path.abspath(opts.out)
    datasets = ["synthetic", "real"]
    dirs = {name: (os.path.join(work, name, "nfcapd"), os.path.join(work, name, "sluice"))
            for name in datasets}
    notes = []
    if opts.reuse and os.path.isdir(dirs["synthetic"][0]):
        datasets = [name for name in datasets if os.path.isdir(dirs[name][0])]
    else:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        started = time.monotonic()
        synthetic, real, notes = make_capture(opts, work)
        if not real:
            notes.append("no real captures found: only the synthetic data set is compared")
            datasets = ["synthetic"]
        for name, files in zip(datasets, (synthetic, real)):
            os.makedirs(os.path.join(work, name))
            dirs[name] = collect(opts, os.path.join(work, name), files, env)
        log(f"captures replayed to both collectors in {time.monotonic() - started:.1f} s")
    for note in notes:
        log(note)
    results = []
    for name in datasets:
        nf_dir, sl_dir = dirs[name]
        nf_flows, sl_flows = stored_counts(opts, nf_dir, sl_dir, env)
        log(f"{name}: stored flows: nfcapd {nf_flows}, sluice {sl_flows}")
        results.append(result(f"{name}/stored-flows", "collect",
                              "pass" if nf_flows == sl_flows else "fail",
                              [opts.nfdump, "-R", nf_dir, "-I"],
                              [opts.sluice, "store", "stats", "--data", sl_dir, "--json"],
                              "flows stored by each collector", nf_flows, sl_flows))

    rc, _, _, _ = run([opts.sluice, "query", "--help"], env)
    if rc != 0:
        write_results(work, results, [])
        if any(item["status"] != "pass" for item in results):
            log("FAIL: the collectors stored different numbers of flows")
            return 1
        log("SKIP: `sluice query` is not available in this build")
        return SKIP

    jobs = []
    for name in datasets:
        ctx = Context(opts, dirs[name][0], dirs[name][1], env)
        for idx, line in enumerate(read_list(os.path.join(HERE, "filters.txt")), start=1):
            records = line.startswith("*")
            filter_text = line.lstrip("*").strip()
            cid = f"{name}/filter-{idx:03d}"
            jobs.append((cid, filter_text, lambda x=ctx, c=cid, f=filter_text, r=records:
                         check_filter(x, c, f, r)))
        for idx, line in enumerate(read_list(os.path.join(HERE, "queries.txt")), start=1):
            args_text, _, filter_text = line.partition("::")
            args = shlex.split(args_text)
            cid = f"{name}/query-{idx:03d}"
            jobs.append((cid, line, lambda x=ctx, c=cid, a=args, f=filter_text.strip():
                         [check_query(x, c, a, f)]))
    jobs = [job for job in jobs if opts.only in job[0]]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        for job, batch in zip(jobs, pool.map(run_job, jobs)):
            for item in batch:
                item["text"] = job[1]
            results.extend(batch)
    log(f"{len(results)} comparisons in {time.monotonic() - started:.1f} s")

    known = load_known(os.path.join(HERE, "known_differences.txt"))
    unexpected = []
    for item in results:
        if item["status"] == "pass":
            continue
        reason = next((why for pattern, why in known
                       if fnmatch.fnmatch(item["id"], pattern) or
                       fnmatch.fnmatch(f"{item['id'].split('/')[0]}: {item['text']}", pattern)),
                      None)
        if reason is not None:
            item["status"] = "known"
            item["detail"] += f" [known difference: {reason}]"
        else:
            unexpected.append(item)
    write_results(work, results, unexpected)
    for item in unexpected:
        log(f"MISMATCH {item['id']} ({item['kind']}): {' '.join(item['detail'].split())}\n"
            f"  nfdump: {item['nfdump']}  sluice: {item['sluice']}\n"
            f"  $ {item['nfdump_command']}\n  $ {item['sluice_command']}")
    passed = sum(1 for item in results if item["status"] == "pass")
    log(f"{passed} of {len(results)} comparisons agree, {len(unexpected)} unexpected "
        f"mismatches; results in {os.path.join(work, 'results.tsv')}")
    return 1 if unexpected else 0


def run_job(job):
    """A job's results; a crash of the comparison itself becomes a failed result."""
    try:
        return job[2]()
    except Exception as error:  # pylint: disable=broad-except
        return [result(job[0], "harness", "fail", [], [], f"comparison crashed: {error!r}")]


def write_results(work, results, unexpected):
    with open(os.path.join(work, "results.json"), "w", encoding="utf-8") as handle:
        json.dump({"results": results, "unexpected": [item["id"] for item in unexpected]},
                  handle, indent=1, default=str)
    with open(os.path.join(work, "results.tsv"), "w", encoding="utf-8") as handle:
        handle.write("id\ttext\tkind\tstatus\tnfdump\tsluice\tdetail\tnfdump_command\t"
                     "sluice_command\n")
        for item in results:
            handle.write("\t".join(" ".join(str(item[name]).split()) for name in
                                   ("id", "text", "kind", "status", "nfdump", "sluice", "detail",
                                    "nfdump_command", "sluice_command")) + "\n")


if __name__ == "__main__":
    sys.exit(main())
