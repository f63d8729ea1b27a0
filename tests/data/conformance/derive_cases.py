#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Derives tests/data/conformance/cases.txt from the shared flow corpus: its MANIFEST.md
# (file order, tshark record counts) and the golden outputs published next to the data
# (Logstash, telegraf, fluent-plugin-netflow, tcpdump, pmacct). Run from the repo root:
#   python3 tests/data/conformance/derive_cases.py ../shared/testdata/flows
# The output is committed; the C++ test (tests/decode/conformance_test.cc) only reads it.
#
# Besides the published numbers, this script walks the NetFlow v9 / IPFIX set structure
# itself (templates, record lengths, padding) to derive what our decoder must produce
# where its documented design differs from tshark/Logstash:
#   * data sets that arrive before their template are held and decoded when the template
#     arrives (DecoderOptions::max_pending_sets_per_exporter), tshark/Logstash drop them;
#   * an RFC 5103 biflow record with non-zero reverse octets/packets yields a second record.
# Every such adjustment is written into the case's `note` lines.

import datetime
import json
import os
import re
import struct
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else '../shared/testdata/flows'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cases.txt')
REVERSE_PEN = 29305

# ----------------------------------------------------------------------------------
# MANIFEST per-file table


def parse_manifest():
    rows = {}
    with open(os.path.join(ROOT, 'MANIFEST.md')) as f:
        for line in f:
            if not line.startswith('| `'):
                continue
            cols = [c.strip() for c in line.strip().strip('|').split(' | ')]
            path = cols[0].strip('`')
            if not re.search(r'\.(dat|bin|dump|pcap|ipfix)$', path):
                continue
            rows[path] = {'proto': cols[1], 'order': cols[4], 'tshark': cols[-1]}
    return rows


def tshark_counts(text):
    counts = {}
    for key, pat in [('data', r'(\d+) data rec'), ('opt', r'(\d+) opt rec'),
                     ('flow', r'(?<!exp )(\d+) flow smp'), ('expflow', r'(\d+) exp flow smp'),
                     ('ctr', r'(?<!exp )(\d+) ctr smp'), ('expctr', r'(\d+) exp ctr smp'),
                     ('nosets', r'(\d+) set w/o tpl')]:
        m = re.search(pat, text)
        counts[key] = int(m.group(1)) if m else 0
    m = re.search(r'\((\d+) v5 records', text)
    counts['v5'] = int(m.group(1)) if m else 0
    return counts


# ----------------------------------------------------------------------------------
# Datagrams of a file: raw payload, or UDP payloads of a pcap/pcapng.


def udp_payloads(path):
    data = open(path, 'rb').read()
    magic = data[:4]
    out = []
    if magic in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d'):
        le = magic[0] in (0xd4, 0x4d)
        e = '<' if le else '>'
        linktype = struct.unpack(e + 'I', data[20:24])[0]
        pos = 24
        while pos + 16 <= len(data):
            incl = struct.unpack(e + 'I', data[pos + 8:pos + 12])[0]
            frame = data[pos + 16:pos + 16 + incl]
            pos += 16 + incl
            p = frame_udp(linktype, frame)
            if p is not None:
                out.append(p)
        return out
    if magic == b'\x0a\x0d\x0d\x0a':
        pos = 0
        e = '<' if data[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
        links = []
        while pos + 12 <= len(data):
            btype, blen = struct.unpack(e + 'II', data[pos:pos + 8])
            if btype == 0x0a0d0d0a:
                e = '<' if data[pos + 8:pos + 12] == b'\x4d\x3c\x2b\x1a' else '>'
                btype, blen = struct.unpack(e + 'II', data[pos:pos + 8])
            if btype == 1:
                links.append(struct.unpack(e + 'H', data[pos + 8:pos + 10])[0])
            elif btype == 6:
                iface, _, _, caplen = struct.unpack(e + 'IIII', data[pos + 8:pos + 24])
                frame = data[pos + 28:pos + 28 + caplen]
                p = frame_udp(links[iface], frame)
                if p is not None:
                    out.append(p)
            pos += blen
        return out
    return [('192.0.2.1', data)]


def frame_udp(linktype, frame):
    if linktype == 1:
        off = 12
        etype = struct.unpack('>H', frame[off:off + 2])[0]
        off += 2
        while etype in (0x8100, 0x88a8):
            etype = struct.unpack('>H', frame[off + 2:off + 4])[0]
            off += 4
    elif linktype == 113:
        etype = struct.unpack('>H', frame[14:16])[0]
        off = 16
    elif linktype in (101, 12, 14):
        off = 0
        etype = 0x0800 if frame[0] >> 4 == 4 else 0x86dd
    else:
        return None
    ip = frame[off:]
    if etype == 0x0800:
        if ip[9] != 17 or (struct.unpack('>H', ip[6:8])[0] & 0x1fff):
            return None
        ihl = (ip[0] & 0xf) * 4
        src = '.'.join(str(b) for b in ip[12:16])
        udp = ip[ihl:]
    elif etype == 0x86dd:
        if ip[6] != 17:
            return None
        src = ':'.join('%x' % struct.unpack('>H', ip[8 + i:10 + i])[0] for i in range(0, 16, 2))
        udp = ip[40:]
    else:
        return None
    ulen = struct.unpack('>H', udp[4:6])[0]
    return (src, udp[8:ulen] if ulen >= 8 else udp[8:])


# ----------------------------------------------------------------------------------
# NetFlow v9 / IPFIX structure walker.


class Walker:
    """Walks v9/IPFIX datagrams, tracking templates per (exporter, domain).

    Produces two streams of emitted units, each unit a tuple (kind, key, twin) where kind
    is 'D' (flow record) or 'O' (options record), key identifies the wire record and twin
    is True for our biflow reverse record:
      logstash: no held sets, no twins (what Logstash and tshark emit);
      ours:     held sets decoded when their template arrives, biflow twins.
    """

    def __init__(self):
        self.templates = {}
        self.pending = {}
        self.logstash = []
        self.ours = []
        self.sets_without_template = 0

    def feed(self, exporter, payload, dgram_no):
        if len(payload) < 4:
            return
        version = struct.unpack('>H', payload[:2])[0]
        if version == 9:
            self._v9(exporter, payload, dgram_no)
        elif version == 10:
            self._ipfix(exporter, payload, dgram_no)

    def _add_template(self, key, fields, is_options):
        self.templates[key] = (fields, is_options)
        held = self.pending.pop(key, [])
        for body, set_key in held:
            self._data(key, body, set_key, self.ours, ipfix=key[0] == 10)

    def _v9(self, exporter, p, dg):
        source_id = struct.unpack('>I', p[16:20])[0]
        pos = 20
        set_no = 0
        while pos + 4 <= len(p):
            sid, slen = struct.unpack('>HH', p[pos:pos + 4])
            if slen < 4 or pos + slen > len(p):
                break
            body = p[pos + 4:pos + slen]
            if sid == 0:
                q = 0
                while q + 4 <= len(body):
                    tid, n = struct.unpack('>HH', body[q:q + 4])
                    q += 4
                    fields = []
                    for _ in range(n):
                        t, ln = struct.unpack('>HH', body[q:q + 4])
                        fields.append((t, ln, 0))
                        q += 4
                    self._add_template((9, exporter, source_id, tid), fields, False)
            elif sid == 1:
                q = 0
                while q + 6 <= len(body):
                    tid, sl, ol = struct.unpack('>HHH', body[q:q + 6])
                    q += 6
                    fields = []
                    for _ in range((sl + ol) // 4):
                        t, ln = struct.unpack('>HH', body[q:q + 4])
                        fields.append((t, ln, 0))
                        q += 4
                    self._add_template((9, exporter, source_id, tid), fields, True)
                    if len(body) - q < 6:
                        break
            elif sid >= 256:
                key = (9, exporter, source_id, sid)
                self._dispatch(key, body, (dg, set_no), ipfix=False)
            pos += slen
            set_no += 1

    def _ipfix(self, exporter, p, dg):
        length, = struct.unpack('>H', p[2:4])
        domain = struct.unpack('>I', p[12:16])[0]
        p = p[:length]
        pos = 16
        set_no = 0
        while pos + 4 <= len(p):
            sid, slen = struct.unpack('>HH', p[pos:pos + 4])
            if slen < 4 or pos + slen > len(p):
                break
            body = p[pos + 4:pos + slen]
            if sid in (2, 3):
                q = 0
                while q + 4 <= len(body):
                    tid, n = struct.unpack('>HH', body[q:q + 4])
                    q += 4
                    if sid == 3:
                        if n == 0:
                            break
                        q += 2
                    if tid < 256:
                        break
                    if n == 0:
                        self.templates.pop((10, exporter, domain, tid), None)
                        continue
                    fields = []
                    for _ in range(n):
                        ie, ln = struct.unpack('>HH', body[q:q + 4])
                        q += 4
                        pen = 0
                        if ie & 0x8000:
                            pen = struct.unpack('>I', body[q:q + 4])[0]
                            q += 4
                            ie &= 0x7fff
                        fields.append((ie, ln, pen))
                    self._add_template((10, exporter, domain, tid), fields, sid == 3)
            elif sid >= 256:
                self._dispatch((10, exporter, domain, sid), body, (dg, set_no), ipfix=True)
            pos += slen
            set_no += 1

    def _dispatch(self, key, body, set_key, ipfix):
        if key in self.templates:
            self._data(key, body, set_key, self.logstash, ipfix)
            self._data(key, body, set_key, self.ours, ipfix)
        else:
            self.sets_without_template += 1
            self.pending.setdefault(key, []).append((body, set_key))

    def _data(self, key, body, set_key, stream, ipfix):
        fields, is_options = self.templates[key]
        fixed = sum(ln for _, ln, _ in fields if ln != 0xffff)
        nvar = sum(1 for _, ln, _ in fields if ln == 0xffff)
        minlen = fixed + nvar
        if minlen == 0:
            return
        q = 0
        rec = 0
        while len(body) - q >= minlen:
            start = q
            rev = False
            ok = True
            for ie, ln, pen in fields:
                if ln == 0xffff:
                    if q >= len(body):
                        ok = False
                        break
                    ln = body[q]
                    q += 1
                    if ln == 255:
                        ln = struct.unpack('>H', body[q:q + 2])[0]
                        q += 2
                if q + ln > len(body):
                    ok = False
                    break
                if pen == REVERSE_PEN and ie in (1, 2, 85, 86) and any(body[q:q + ln]):
                    rev = True
                q += ln
            if not ok or q == start:
                break
            kind = 'O' if is_options else 'D'
            stream.append((kind, set_key + (rec,), False))
            if rev and not is_options and stream is self.ours:
                stream.append((kind, set_key + (rec,), True))
            rec += 1


def walk(paths, exporters=None):
    w = Walker()
    dg = 0
    for i, path in enumerate(paths):
        for src, payload in udp_payloads(os.path.join(ROOT, path)):
            if exporters and exporters[i]:
                src = exporters[i]
            w.feed(src, payload, dg)
            dg += 1
    return w


def counts_of(stream):
    d = sum(1 for k, _, _ in stream if k == 'D')
    o = sum(1 for k, _, _ in stream if k == 'O')
    return d, o


# ----------------------------------------------------------------------------------
# Output helpers


def iso_ms(text):
    t = datetime.datetime.strptime(text.replace('Z', '+0000'), '%Y-%m-%dT%H:%M:%S.%f%z') \
        if '.' in text else datetime.datetime.strptime(text.replace('Z', '+0000'), '%Y-%m-%dT%H:%M:%S%z')
    return int(round(t.timestamp() * 1000))


def slug(text):
    s = re.sub(r'[^A-Za-z0-9]+', '_', text).strip('_')
    return s


class Case:
    def __init__(self, name):
        self.name = slug(name)
        self.files = []
        self.records = None
        self.options = None
        self.counters = None
        self.errors = 'none'
        self.no_template_sets = None
        self.notes = []
        self.checks = []
        self.split = None

    def text(self):
        lines = ['case ' + self.name]
        for path, exporter in self.files:
            lines.append('file ' + path + ((' exporter=' + exporter) if exporter else ''))
        if self.split:
            lines.append('split ' + self.split)
        for label, value in (('records', self.records), ('options', self.options),
                             ('counters', self.counters), ('sets_without_template', self.no_template_sets)):
            if value is not None:
                lines.append('%s %s' % (label, value))
        lines.append('errors ' + self.errors)
        for note in self.notes:
            lines.append('note ' + note)
        lines.extend(self.checks)
        lines.append('end')
        return '\n'.join(lines)


def fmt_fields(fields):
    return ' '.join('%s=%s' % (k, v) for k, v in fields.items())


# ----------------------------------------------------------------------------------
# Field maps: golden names -> ours.

LOGSTASH_MAP = {
    'ipv4_src_addr': 'src_addr', 'ipv6_src_addr': 'src_addr', 'sourceIPv4Address': 'src_addr',
    'sourceIPv6Address': 'src_addr',
    'ipv4_dst_addr': 'dst_addr', 'ipv6_dst_addr': 'dst_addr', 'destinationIPv4Address': 'dst_addr',
    'destinationIPv6Address': 'dst_addr',
    'l4_src_port': 'src_port', 'sourceTransportPort': 'src_port',
    'l4_dst_port': 'dst_port', 'destinationTransportPort': 'dst_port',
    'in_bytes': 'bytes_unscaled', 'octetDeltaCount': 'bytes_unscaled',
    'in_pkts': 'packets_unscaled', 'packetDeltaCount': 'packets_unscaled',
    'protocol': 'proto', 'protocolIdentifier': 'proto',
    'input_snmp': 'in_if', 'ingressInterface': 'in_if',
    'output_snmp': 'out_if', 'egressInterface': 'out_if',
    'src_as': 'src_as', 'bgpSourceAsNumber': 'src_as',
    'dst_as': 'dst_as', 'bgpDestinationAsNumber': 'dst_as',
    'src_mask': 'src_mask', 'sourceIPv4PrefixLength': 'src_mask', 'ipv6_src_mask': 'src_mask',
    'sourceIPv6PrefixLength': 'src_mask',
    'dst_mask': 'dst_mask', 'destinationIPv4PrefixLength': 'dst_mask', 'ipv6_dst_mask': 'dst_mask',
    'destinationIPv6PrefixLength': 'dst_mask',
    'ipv4_next_hop': 'next_hop', 'ipNextHopIPv4Address': 'next_hop', 'ipv6_next_hop': 'next_hop',
    'ipNextHopIPv6Address': 'next_hop',
    'bgp_ipv4_next_hop': 'bgp_next_hop', 'bgpNextHopIPv4Address': 'bgp_next_hop',
    'bgp_ipv6_next_hop': 'bgp_next_hop', 'bgpNextHopIPv6Address': 'bgp_next_hop',
    'tcp_flags': 'tcp_flags', 'tcpControlBits': 'tcp_flags',
    'src_tos': 'tos', 'ipClassOfService': 'tos',
    'first_switched': 'first', 'flowStartMilliseconds': 'first', 'flowStartSeconds': 'first',
    'last_switched': 'last', 'flowEndMilliseconds': 'last', 'flowEndSeconds': 'last',
    'xlate_src_addr_ipv4': 'xlate_src_addr', 'postNATSourceIPv4Address': 'xlate_src_addr',
    'xlate_dst_addr_ipv4': 'xlate_dst_addr', 'postNATDestinationIPv4Address': 'xlate_dst_addr',
    'xlate_src_port': 'xlate_src_port', 'postNAPTSourceTransportPort': 'xlate_src_port',
    'xlate_dst_port': 'xlate_dst_port', 'postNAPTDestinationTransportPort': 'xlate_dst_port',
    'fw_event': 'fw_event', 'firewallEvent': 'fw_event',
    'src_vlan': 'vlan', 'vlanId': 'vlan',
    'in_src_mac': 'src_mac', 'sourceMacAddress': 'src_mac',
    'in_dst_mac': 'dst_mac', 'destinationMacAddress': 'dst_mac',
    'direction': 'direction', 'flowDirection': 'direction',
    'flowEndReason': 'flow_end_reason', 'flow_end_reason': 'flow_end_reason',
}
TIME_FIELDS = {'first', 'last'}
FLOW_KEYS = {'src_addr', 'dst_addr', 'bytes_unscaled', 'packets_unscaled', 'src_port', 'proto'}


def map_logstash(nf):
    out = {}
    for k, v in nf.items():
        ours = LOGSTASH_MAP.get(k)
        if ours is None or isinstance(v, (dict, list)):
            continue
        if ours in TIME_FIELDS:
            if not isinstance(v, str) or 'T' not in v:
                continue
            v = iso_ms(v)
        if ours in ('src_mac', 'dst_mac'):
            v = str(v).lower()
        if ours in out:
            continue
        out[ours] = v
    return out


def logstash_cases(manifest, used):
    spec = json.load(open(os.path.join(ROOT, 'logstash-codec-netflow/expected/netflow_spec_expected.json')))
    cases = []
    for ctx in spec['contexts']:
        name = 'logstash_' + (ctx['context'] if ctx['describe'] == 'default config'
                              else ctx['describe'] + '_' + ctx['context'])
        c = Case(name)
        files = ctx.get('template_files_loaded_first', []) + ctx['dat_files']
        paths = ['logstash-codec-netflow/' + f for f in files]
        used.update(paths)
        c.files = [(p, None) for p in paths]
        counts = [tshark_counts(manifest[p]['tshark']) for p in paths]
        t_data = sum(x['data'] for x in counts)
        t_opt = sum(x['opt'] for x in counts)
        w = walk(paths)
        ls_d, ls_o = counts_of(w.logstash)
        our_d, our_o = counts_of(w.ours)
        decode_size = ctx.get('decode_size')
        c.notes.append('Logstash context "%s" / "%s"; Logstash decode_size=%s (data + options events); '
                       'tshark: %d data rec, %d opt rec; structure walk: %d data, %d options, '
                       '%d records incl. held sets and biflow twins'
                       % (ctx['describe'], ctx['context'], decode_size, t_data, t_opt, ls_d, ls_o, our_d))
        v5 = manifest[paths[0]]['proto'] == 'v5'
        invalid = 'invalid' in ctx['context']
        if invalid:
            c.errors = 'any' if not v5 else 'expected'
            c.records = None
            c.notes.append('negative test: upstream only asserts that decoding does not raise; record '
                           'count not fixed (tshark decodes %d); %s' % (t_data,
                           'the v5 header count exceeds the records present, so a counted error is required'
                           if v5 else 'tshark finds nothing wrong in it, so no error is required either'))
            cases.append(c)
            continue
        if v5:
            c.records = t_data
            c.options = 0
        else:
            expected = t_data
            if ctx['context'] == 'Netflow 9 H3C':
                expected = decode_size
                c.notes.append('H3C: MANIFEST names Logstash (16) the reference, tshark decodes 1')
            elif ctx['context'].startswith('IPFIX from IXIA'):
                expected = decode_size
                c.notes.append('Ixia: MANIFEST names Logstash (1) the reference, tshark decodes 0')
            if our_d != ls_d:
                c.notes.append('our decoder also emits %d record(s) from held sets (data before its '
                               'template) and/or RFC 5103 biflow twins: expected %d + %d'
                               % (our_d - ls_d, expected, our_d - ls_d))
            c.records = expected + (our_d - ls_d)
            c.options = t_opt if not ctx['context'].startswith('IPFIX from IXIA') else None
            if ctx['context'].startswith('IPFIX from IXIA'):
                c.notes.append('Ixia options count not established (tshark 0 opt rec, Logstash counts '
                               'only the data event)')
            if 'missing templates' in ctx['context']:
                c.records = 0
                c.options = 0
                c.no_template_sets = '>=1'
        # Record checks: Logstash event index -> our record index.
        ls_keys = [(k, key) for k, key, _ in w.logstash]
        our_index = {}
        for idx, (k, key, twin) in enumerate(w.ours):
            if k == 'D' and not twin:
                our_index[key] = sum(1 for kk, _, _ in w.ours[:idx] if kk == 'D')
        events = ctx.get('json_events') or []
        for pair in ctx.get('serialize_pairs') or []:
            di = pair['decoded_event_index']
            ev = events[pair['json_events_index']]
            fields = map_logstash(ev.get('netflow', {}))
            if di >= len(ls_keys):
                c.notes.append('event %d: structure walk found only %d events; not checked' % (di, len(ls_keys)))
                continue
            kind, key = ls_keys[di]
            if kind == 'O' or not (FLOW_KEYS & fields.keys()):
                continue
            if key not in our_index:
                continue
            nf = ev.get('netflow', {})
            if not v5 and nf.get('version') == 9 and 'first_switched' in nf:
                for t in ('first', 'last'):
                    if t in fields:
                        fields[t] -= 1000
                if not any('RFC 3954 arithmetic' in n for n in c.notes):
                    c.notes.append('v9 first/last = Logstash first_switched/last_switched - 1000 ms: '
                                   'RFC 3954 arithmetic (export secs * 1000 - (sysUptime - switched)) gives '
                                   'one second less than the Logstash golden in every v9 context; the '
                                   'fluent-plugin-netflow golden for the same arithmetic agrees with RFC 3954')
            if fields.get('proto') in (1, 58) and 'dst_port' in fields:
                fields['dst_port'] = (int(nf.get('icmp_type', 0)) << 8) | int(nf.get('icmp_code', 0))
                note = 'dst_port = type << 8 | code'
                if 'icmp_type' in nf and fields.get('src_port'):
                    # ICMP type elements present: the port elements are not ports (ASA: echo id).
                    fields['src_port'] = 0
                    note += ', src_port 0 (explicit ICMP type elements)'
                c.notes.append('ICMP event %d: %s by design (NormalizeIcmp, nfdump style), Logstash '
                               'l4_dst_port %s' % (di, note, nf.get('l4_dst_port', 0)))
            if v5 and fields.get('first', 0) > fields.get('last', 0):
                c.notes.append('v5 event %d: first/last not compared, Logstash computes first_switched '
                               'from uptime without wrap handling (its golden first > last)' % di)
                fields.pop('first', None)
                fields.pop('last', None)
            c.checks.append('record %d %s' % (our_index[key], fmt_fields(fields)))
        for fa in ctx.get('field_assertions') or []:
            m = re.match(r'\[netflow\]\[(\w+)\]$', fa['field'])
            if not m or m.group(1) not in LOGSTASH_MAP:
                continue
            di = fa['decoded_event_index']
            if di >= len(ls_keys) or ls_keys[di][0] == 'O' or ls_keys[di][1] not in our_index:
                continue
            fields = map_logstash({m.group(1): fa['expected']})
            if fields:
                c.checks.append('record %d %s' % (our_index[ls_keys[di][1]], fmt_fields(fields)))
        c.notes = [n for n in c.notes if n]
        cases.append(c)
    # Files no context uses.
    for path in sorted(p for p in manifest if p.startswith('logstash-codec-netflow/') and p not in used):
        c = Case('logstash_unreferenced_' + os.path.basename(path))
        c.files = [(path, None)]
        t = tshark_counts(manifest[path]['tshark'])
        w = walk([path])
        our_d, our_o = counts_of(w.ours)
        c.records = t['data']
        if 'ixia' in path and our_d != t['data']:
            c.records = our_d
            c.notes.append('Ixia: expectation from the structure walk (%d), not tshark (%d): tshark does not '
                           'decode Ixia data sets with variable-length enterprise fields (MANIFEST '
                           'cross-check for ipfix_test_ixia_tpldata256.dat)' % (our_d, t['data']))
        c.options = t['opt']
        c.notes.append('not used by the Logstash spec; tshark: %s; structure walk: %d data, %d options'
                       % (manifest[path]['tshark'], our_d, our_o))
        used.add(path)
        cases.append(c)
    return cases


# ----------------------------------------------------------------------------------
# telegraf

PROTO_NAMES = {'tcp': 6, 'udp': 17, 'icmp': 1, 'ipv6-icmp': 58, 'icmpv6': 58, 'gre': 47, 'esp': 50,
               'vrrp': 112, 'igmp': 2, 'sctp': 132, 'hopopt': 0, 'ospf': 89, 'ipv6': 41,
               'pim': 103}
TCP_FLAG_CHARS = 'CEUAPRSF'


def parse_line_protocol(line):
    line = line.strip()
    if not line:
        return None
    # measurement,tags fields [time]; values contain no spaces in these files except inside quotes.
    parts = []
    cur = ''
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == ' ' and not quoted:
            parts.append(cur)
            cur = ''
        else:
            cur += ch
    parts.append(cur)
    head, fields = parts[0], parts[1]
    measurement = head.split(',')[0]
    tags = dict(t.split('=', 1) for t in head.split(',')[1:])
    out = {}
    cur = ''
    quoted = False
    items = []
    for ch in fields:
        if ch == '"':
            quoted = not quoted
        if ch == ',' and not quoted:
            items.append(cur)
            cur = ''
        else:
            cur += ch
    items.append(cur)
    for item in items:
        k, v = item.split('=', 1)
        if v.startswith('"'):
            v = v[1:-1]
        elif v.endswith('u') or v.endswith('i'):
            v = int(v[:-1])
        out[k] = v
    return measurement, tags, out


def map_telegraf(f, sflow):
    out = {}
    simple = {'src': 'src_addr', 'dst': 'dst_addr', 'src_port': 'src_port', 'dst_port': 'dst_port',
              'in_snmp': 'in_if', 'out_snmp': 'out_if', 'src_mask': 'src_mask', 'dst_mask': 'dst_mask',
              'bgp_src_as': 'src_as', 'bgp_dst_as': 'dst_as', 'next_hop': 'next_hop',
              'flow_start_ms': 'first', 'flow_end_ms': 'last', 'in_src_mac': 'src_mac',
              'vlan_src': 'vlan'}
    if not sflow:
        simple.update({'in_bytes': 'bytes_unscaled', 'in_packets': 'packets_unscaled',
                       'in_total_bytes': 'bytes_unscaled', 'in_total_packets': 'packets_unscaled'})
    else:
        simple.update({'out_dst_mac': 'dst_mac', 'sampling_interval': 'sampling_rate'})
    for k, v in f.items():
        if k in simple:
            out[simple[k]] = v
    if 'protocol' in f:
        p = f['protocol']
        out['proto'] = PROTO_NAMES[p] if p in PROTO_NAMES else int(p)
    if 'src_tos' in f:
        v = f['src_tos']
        out['tos'] = int(v, 16) if isinstance(v, str) else v
    if 'tcp_flags' in f and isinstance(f['tcp_flags'], str) and len(f['tcp_flags']) == 8:
        bits = 0
        for i, ch in enumerate(f['tcp_flags']):
            if ch != '.':
                bits |= 1 << (7 - i)
        out['tcp_flags'] = bits
    if sflow and out.get('proto') == 0:
        out.pop('proto')  # telegraf: first IPv6 Next Header (hop-by-hop); ours: upper-layer protocol
    if not sflow and 'direction' in f and f['direction'] in ('ingress', 'egress'):
        out['direction'] = 0 if f['direction'] == 'ingress' else 1
    if out.get('src_addr') == '0.0.0.0':
        out.pop('src_addr')
    return out


def telegraf_cases(manifest, used):
    cases = []
    base = os.path.join(ROOT, 'telegraf')
    for folder in sorted(os.listdir(base)):
        if not os.path.isdir(os.path.join(base, folder)):
            continue
        bins = sorted(f for f in os.listdir(os.path.join(base, folder)) if f.endswith('.bin'))
        paths = ['telegraf/%s/%s' % (folder, b) for b in bins]
        used.update(paths)
        c = Case('telegraf_' + folder)
        c.files = [(p, None) for p in paths]
        counts = [tshark_counts(manifest[p]['tshark']) for p in paths]
        sflow = manifest[paths[0]]['proto'] == 'sflow'
        t_data = sum(x['data'] + x['flow'] + x['expflow'] for x in counts)
        c.options = sum(x['opt'] for x in counts)
        c.counters = sum(x['ctr'] + x['expctr'] for x in counts) if sflow else None
        extra = 0
        if not sflow:
            w = walk(paths)
            ls_d, _ = counts_of(w.logstash)
            our_d, _ = counts_of(w.ours)
            extra = our_d - ls_d
            if ls_d != t_data:
                c.notes.append('structure walk counts %d data records, tshark %d' % (ls_d, t_data))
            if extra:
                c.notes.append('%d RFC 5103 biflow record(s) with reverse counters: we emit a second '
                               'record for each, telegraf one line: expected %d + %d' % (extra, t_data, extra))
        c.records = t_data + extra
        c.notes.append('golden: telegraf/%s/expected.out, compared unordered (telegraf sorts); '
                       'each expected flow line must match a distinct record on the mapped fields' % folder)
        lines = open(os.path.join(base, folder, 'expected.out')).read().splitlines()
        for line in lines:
            parsed = parse_line_protocol(line)
            if not parsed:
                continue
            meas, tags, f = parsed
            if meas != 'netflow':
                continue
            if sflow and ('interface' in f or 'reason' in f):
                continue  # counter sample / drop event line
            fields = map_telegraf(f, sflow)
            if fields:
                c.checks.append('match ' + fmt_fields(fields))
        if sflow:
            c.notes.append('sFlow lines: telegraf "direction" is not mapped (it is derived from the sample '
                           'source id, not a flow field); proto not compared where telegraf reports IPv6 Next '
                           'Header 0 (hop-by-hop): we report the upper-layer protocol after extension headers')
        if folder == 'sflow_issue_15375':
            c.notes.append('discarded-packet event (format 5): telegraf writes a line, it is not a flow '
                           'sample; tshark: 0 records')
        cases.append(c)
    return cases


# ----------------------------------------------------------------------------------
# fluent-plugin-netflow

def fluent_cases(manifest, used):
    spec = json.load(open(os.path.join(ROOT, 'fluent-plugin-netflow/expected.json')))
    cases = []
    for test in spec['tests']:
        if 'payloads_in_order' not in test:
            continue
        c = Case('fluent_' + test['name'][:60])
        paths = ['fluent-plugin-netflow/' + p for p in test['payloads_in_order']]
        used.update(paths)
        c.files = [(p, None) for p in paths]
        counts = [tshark_counts(manifest[p]['tshark']) for p in paths]
        w = walk(paths)
        our_d, our_o = counts_of(w.ours)
        if 'expected_record_count' in test:
            c.records = test['expected_record_count']
        else:
            c.records = our_d
            c.notes.append('record count from the structure walk (%d), upstream states none' % our_d)
        c.options = our_o
        if c.records == 0:
            c.no_template_sets = '>=1'
        c.notes.append('fluent-plugin-netflow test "%s"' % test['name'])
        for rec in test.get('expected_records', []):
            c.checks.append('record 0 ' + fmt_fields(map_logstash(rec)))
        first = test.get('expected_fields_on_first_flow_record')
        if first:
            fields = map_logstash(first)
            if 'sampling_interval' in first:
                fields['sampling_rate'] = first['sampling_interval']
                c.notes.append('sampling_interval 5000 from the sampler options record applies to the '
                               'flow (flow_sampler_id 1): sampling_rate=5000')
            if 'mpls_label_1' in first:
                fields['mpls_label'] = first['mpls_label_1']
                c.notes.append('mpls_label_1 = 24002 is the label value of the top label')
            c.checks.append('record 0 ' + fmt_fields(fields))
        cases.append(c)
    # Template cache per exporter host.
    c = Case('fluent_template_cache_per_exporter')
    c.files = [('fluent-plugin-netflow/netflow.v9.sampler_template.dump', '192.0.2.10'),
               ('fluent-plugin-netflow/netflow.v9.sampler.dump', '192.0.2.10'),
               ('fluent-plugin-netflow/netflow.v9.template.dump', '192.0.2.10'),
               ('fluent-plugin-netflow/netflow.v9.dump', '192.0.2.20'),
               ('fluent-plugin-netflow/netflow.v9.template.dump', '192.0.2.20'),
               ('fluent-plugin-netflow/netflow.v9.dump', '192.0.2.20')]
    c.options = 1
    c.no_template_sets = '>=1'
    c.notes = ['fluent "template cache is per exporter host": sampler options + template from host A, '
               'data from host B (no template there: held), template from B (held set decoded: 1 record), '
               'data from B (1 record) = 2 records, none with A\'s sampler (sampling_rate 1); '
               'fluent drops the held set, so it counts 1']
    c.records = 2
    c.checks.append('record 0 exporter=192.0.2.20 sampling_rate=1')
    c.checks.append('record 1 exporter=192.0.2.20 sampling_rate=1')
    cases.append(c)
    return cases


# ----------------------------------------------------------------------------------
# tcpdump sFlow

def tcpdump_cases(manifest, used):
    cases = []
    for stem in ['sflow-print-v6', 'sflow_expanded', 'sflow_multiple_counter_30_pdus', 'sflow_print-segv']:
        path = 'tcpdump/%s.pcap' % stem
        used.add(path)
        c = Case('tcpdump_' + stem)
        c.files = [(path, None)]
        t = tshark_counts(manifest[path]['tshark'])
        text = open(os.path.join(ROOT, 'tcpdump/%s.out' % stem)).read()
        n_flow = len(re.findall(r'^\s+(expanded )?flow sample \(', text, re.M))
        n_ctr = len(re.findall(r'^\s+(expanded )?counter sample \(', text, re.M))
        c.records = t['flow'] + t['expflow'] + t['v5']
        c.counters = t['ctr'] + t['expctr']
        c.options = 0
        c.notes.append('tshark: %s; tcpdump .out: %d flow samples, %d counter samples'
                       % (manifest[path]['tshark'], n_flow, n_ctr))
        if stem == 'sflow_multiple_counter_30_pdus':
            c.notes.append('mixed port: + %d NetFlow v5 records sent to 6343' % t['v5'])
        if stem == 'sflow_print-segv':
            c.errors = 'expected'
            c.records = 0
            c.counters = 0
            c.notes.append('fuzzed datagram (CVE-2018-10105 regression): must be rejected with a counted error')
        idx = 0
        for m in re.finditer(r'^\s+(expanded )?flow sample \(\d\).*?rate (\d+),.*?input (\d+)(?: \((\d+)\))?,? '
                             r'output (\d+)(?: \((\d+)\))?', text, re.M):
            expanded, rate, inp, _, outp, ofmt = m.groups()
            fields = {'sampling_rate': int(rate), 'in_if': int(inp)}
            outp = int(outp)
            if expanded and (ofmt or '0') == '0':
                fields['out_if'] = outp
            elif not expanded and outp < 0x40000000:
                fields['out_if'] = outp
            c.checks.append('record %d %s' % (idx, fmt_fields(fields)))
            idx += 1
        cases.append(c)
    return cases


# ----------------------------------------------------------------------------------
# akvorado, cistern, ipfixcol2, pmacct

AKV_PAIRS = [
    ('template.pcap', 'data.pcap'),
    ('datalink-template.pcap', 'datalink-data.pcap'),
    ('ethernet-over-mpls-with-control-word-template.pcap', 'ethernet-over-mpls-with-control-word-data.pcap'),
    ('icmp-template.pcap', 'icmp-data.pcap'),
    ('ipfix-srv6-template.pcap', 'ipfix-srv6-data.pcap'),
    ('ipfixprobe-templates.pcap', 'ipfixprobe-data.pcap'),
    ('juniper-cpid-template.pcap', 'juniper-cpid-data.pcap'),
    ('options-template.pcap', 'options-data.pcap'),
    ('samplingrate-template.pcap', 'samplingrate-data.pcap'),
    ('multiplesamplingrates-options-template.pcap', 'multiplesamplingrates-options-data.pcap',
     'multiplesamplingrates-template.pcap', 'multiplesamplingrates-data.pcap'),
]


def akvorado_cases(manifest, used):
    cases = []
    for seq in AKV_PAIRS:
        paths = ['akvorado/netflow/' + p for p in seq]
        used.update(paths)
        w = walk(paths)
        ls_d, ls_o = counts_of(w.logstash)
        our_d, our_o = counts_of(w.ours)
        t_before = sum(tshark_counts(manifest[p]['tshark'])['data'] for p in paths if 'data' not in
                       os.path.basename(p) or 'template' in os.path.basename(p))
        c = Case('akvorado_' + os.path.basename(seq[-1]).replace('.pcap', '') + '_after_templates')
        c.files = [(p, None) for p in paths]
        c.records = our_d
        c.options = our_o
        c.notes.append('templates first (MANIFEST order); tshark gives counts only for the files alone '
                       '(template files: %d data rec), so the count is the structure walk: %d data, '
                       '%d options (%d incl. biflow twins)' % (t_before, ls_d, ls_o, our_d))
        if our_d != ls_d:
            c.notes.append('includes %d RFC 5103 biflow twin record(s)' % (our_d - ls_d))
        cases.append(c)
        # Each data file alone: its sets have no template.
        for p in paths:
            if 'data' not in os.path.basename(p):
                continue
            t = tshark_counts(manifest[p]['tshark'])
            alone = Case('akvorado_' + os.path.basename(p).replace('.pcap', '') + '_alone')
            alone.files = [(p, None)]
            alone.records = t['data']
            alone.options = t['opt']
            alone.no_template_sets = '>=%d' % t['nosets']
            alone.notes.append('standalone: tshark %s' % manifest[p]['tshark'])
            cases.append(alone)
    # Template files are covered by the sequences; self-contained pcaps:
    for p in sorted(manifest):
        if not p.startswith('akvorado/') or p in used:
            continue
        used.add(p)
        t = tshark_counts(manifest[p]['tshark'])
        c = Case('akvorado_' + p.split('/', 1)[1].replace('/', '_').replace('.pcap', ''))
        c.files = [(p, None)]
        if manifest[p]['proto'] == 'sflow':
            c.records = t['flow'] + t['expflow']
            c.counters = t['ctr'] + t['expctr']
            c.options = 0
            c.notes.append('tshark: %s (one record per flow sample)' % manifest[p]['tshark'])
        else:
            w = walk([p])
            ls_d, ls_o = counts_of(w.logstash)
            our_d, our_o = counts_of(w.ours)
            c.records = t['data'] + (our_d - ls_d)
            c.options = t['opt']
            c.notes.append('tshark: %s; structure walk: %d data, %d options' % (manifest[p]['tshark'], ls_d, ls_o))
            if our_d != ls_d:
                c.notes.append('+%d record(s) from a data set held until its template arrived later in the '
                               'same packet (tshark skips it)' % (our_d - ls_d))
            if t['nosets']:
                c.no_template_sets = '>=%d' % t['nosets']
        cases.append(c)
    return cases


def cistern_cases(manifest, used):
    cases = []
    for p in sorted(x for x in manifest if x.startswith('cistern-sflow/')):
        used.add(p)
        t = tshark_counts(manifest[p]['tshark'])
        c = Case('cistern_' + os.path.basename(p).replace('.dump', ''))
        c.files = [(p, None)]
        c.records = t['flow'] + t['expflow']
        c.counters = t['ctr'] + t['expctr']
        c.options = 0
        c.notes.append('tshark: %s' % manifest[p]['tshark'])
        if 'event_discarded' in p:
            c.notes.append('discarded-packet event sample (format 5) is not a flow sample: 0 records, '
                           'no counter sample')
        cases.append(c)
    return cases


def ipfixcol2_cases(manifest, used):
    p = 'ipfixcol2/example_flows.ipfix'
    used.add(p)
    t = tshark_counts(manifest[p]['tshark'])
    c = Case('ipfixcol2_example_flows')
    c.files = [(p, None)]
    c.split = 'ipfix_messages'
    c.records = t['data']
    c.options = t['opt']
    c.notes.append('IPFIX File (RFC 5655): split into messages on the 16-byte header length, each fed '
                   'as one datagram; tshark: %s' % manifest[p]['tshark'])
    return [c]


def pmacct_cases(manifest, used):
    cases = []
    base = os.path.join(ROOT, 'pmacct-test-automation')
    for folder in sorted(os.listdir(base)):
        if not os.path.isdir(os.path.join(base, folder)):
            continue
        pcaps = sorted(f for f in os.listdir(os.path.join(base, folder)) if f.endswith('.pcap'))
        paths = ['pmacct-test-automation/%s/%s' % (folder, f) for f in pcaps]
        used.update(paths)
        c = Case('pmacct_' + folder)
        c.files = [(p, None) for p in paths]
        counts = [tshark_counts(manifest[p]['tshark']) for p in paths]
        c.records = sum(x['data'] for x in counts)
        c.options = sum(x['opt'] for x in counts)
        c.notes.append('tshark: ' + '; '.join(manifest[p]['tshark'] for p in paths))
        golden = os.path.join(base, folder, 'output-flow-00.json')
        rows = [json.loads(l) for l in open(golden) if l.strip()]
        tot_p = sum(r.get('packets') or 0 for r in rows)
        tot_b = sum(r.get('bytes') or 0 for r in rows)
        c.notes.append('golden output-flow-00.json: %d aggregated rows; totals compared on unscaled '
                       'bytes/packets (nfacctd does not renormalize unless configured; if a case fails '
                       'only on totals by the sampling rate, that is the reason)' % len(rows))
        suffix = '_unscaled'
        if 'sampling_option' in folder:
            suffix = ''
            c.notes.append('nfacctd renormalizes by the sampling option data in this test (its totals are '
                           '256 x the raw counters): compared with our scaled bytes/packets')
        c.checks.append('sum packets%s=%d bytes%s=%d' % (suffix, tot_p, suffix, tot_b))
        # Per-key sums on (src_addr, dst_addr, src_port, dst_port, proto) where the golden
        # rows carry them.
        groups = {}
        for r in rows:
            if 'ip_src' not in r or 'port_src' not in r:
                continue
            proto = r.get('ip_proto')
            proto = PROTO_NAMES.get(proto, proto)
            if not isinstance(proto, int):
                try:
                    proto = int(proto)
                except (TypeError, ValueError):
                    continue
            key = (r['ip_src'], r['ip_dst'], r['port_src'], r['port_dst'], proto)
            g = groups.setdefault(key, [0, 0])
            g[0] += r.get('packets') or 0
            g[1] += r.get('bytes') or 0
        for key, (pk, by) in sorted(groups.items(), key=lambda kv: str(kv[0])):
            c.checks.append('sum src_addr=%s dst_addr=%s src_port=%d dst_port=%d proto=%d | '
                            'packets%s=%d bytes%s=%d' % (key[:2] + key[2:] + (suffix, pk, suffix, by)))
        cases.append(c)
    return cases


def main():
    manifest = parse_manifest()
    used = set()
    cases = []
    cases += logstash_cases(manifest, used)
    cases += telegraf_cases(manifest, used)
    cases += fluent_cases(manifest, used)
    cases += tcpdump_cases(manifest, used)
    cases += akvorado_cases(manifest, used)
    cases += cistern_cases(manifest, used)
    cases += ipfixcol2_cases(manifest, used)
    cases += pmacct_cases(manifest, used)
    missing = sorted(set(manifest) - used)
    names = [c.name for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    for c in cases:
        if c.name in dup:
            c.name += '_' + str(abs(hash(tuple(f for f, _ in c.files))) % 1000)
    with open(OUT, 'w') as f:
        f.write('# Conformance cases over ../shared/testdata/flows (see its MANIFEST.md).\n'
                '# GENERATED by derive_cases.py from MANIFEST.md and the published golden outputs;\n'
                '# hand edits are marked "# manual:". Format:\n'
                '#   case NAME / file PATH [exporter=IP] (in feed order, one Decoder) / split ipfix_messages\n'
                '#   records N | options N | counters N | sets_without_template N|>=N   (omitted = not checked)\n'
                '#   errors none|expected|any / note TEXT (why an expectation is what it is)\n'
                '#   record IDX field=value ...   (record IDX in decode order; bytes_unscaled = bytes / sampling_rate)\n'
                '#   match field=value ...        (some distinct record, any order: telegraf)\n'
                '#   sum [filter=value ... |] field=total ...  (sum over the records matching the filter)\n'
                '#   end\n')
        f.write('# Manifest files not covered: %s\n\n' % (', '.join(missing) or 'none'))
        for c in cases:
            f.write(c.text() + '\n\n')
    print('%d cases, %d manifest files, %d not covered: %s' % (len(cases), len(manifest), len(missing), missing))


if __name__ == '__main__':
    main()
