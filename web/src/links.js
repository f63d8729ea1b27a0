// Every address, port and exporter shown in a table is a link: an address to its host
// page, a port to the flows explorer filtered on it, an exporter to the exporters page.

import { h } from './dom.js';
import { protocolName } from './format.js';
import { href } from './router.js';

const ADDRESS_FIELDS = new Set(['src_addr', 'dst_addr', 'next_hop', 'bgp_next_hop', 'xlate_src_addr', 'xlate_dst_addr']);
const PORT_FIELDS = new Set(['src_port', 'dst_port', 'xlate_src_port', 'xlate_dst_port']);

export function hostLink(address, range) {
  if (address.includes('/')) {
    // a network (cut by -A srcip4/24): its flows in the explorer
    return h('a', { href: href('explorer', '', { ...range, filter: `net ${address}` }) }, address);
  }
  return h('a', { href: href('host', address, range), className: 'address' }, address);
}

export function portLink(port, range) {
  return h('a', { href: href('explorer', '', { ...range, filter: `port ${port}` }), className: 'port' }, String(port));
}

export function exporterLink(address) {
  return h('a', { href: href('exporters', '', { exporter: address }), className: 'exporter' }, address);
}

export function protocolLink(number, range) {
  return h('a', { href: href('explorer', '', { ...range, filter: `proto ${number}` }) }, protocolName(number));
}

// The cell for a value of catalogue field `field`.
export function fieldCell(field, value, range) {
  if (value === undefined || value === null || value === '') return '';
  if (ADDRESS_FIELDS.has(field)) return hostLink(String(value), range);
  if (PORT_FIELDS.has(field)) return portLink(value, range);
  if (field === 'exporter') return exporterLink(String(value));
  if (field === 'proto') return protocolLink(value, range);
  return String(value);
}
