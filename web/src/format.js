// Numbers, protocols and times as people read them.

const PROTOCOLS = {
  1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 41: 'IPv6', 47: 'GRE', 50: 'ESP', 51: 'AH',
  58: 'ICMPv6', 89: 'OSPF', 103: 'PIM', 112: 'VRRP', 132: 'SCTP',
};

export function protocolName(number) {
  return PROTOCOLS[number] ?? String(number);
}

// 1234567 -> "1.23 M" (SI, powers of 1000); small numbers as they are.
export function human(value, unit = '') {
  const number = Number(value);
  if (!Number.isFinite(number)) return '–';
  const abs = Math.abs(number);
  const steps = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, prefix] of steps) {
    if (abs >= size) return `${(number / size).toFixed(abs / size >= 100 ? 0 : abs / size >= 10 ? 1 : 2)} ${prefix}${unit}`;
  }
  const shown = Number.isInteger(number) ? String(number) : number.toFixed(abs >= 10 ? 1 : 2);
  return unit ? `${shown} ${unit}` : shown;
}

// Exact whole numbers with separators: 1234567 -> "1,234,567".
export function exact(value) {
  return Number(value).toLocaleString('en-US');
}

const TZ_KEY = 'sluice.timezone';

// "local" (the browser's time zone) or "utc".
export function timeZoneSetting() {
  return localStorage.getItem(TZ_KEY) === 'utc' ? 'utc' : 'local';
}

export function setTimeZoneSetting(zone) {
  localStorage.setItem(TZ_KEY, zone === 'utc' ? 'utc' : 'local');
}

function dateParts(ms) {
  const format = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    hourCycle: 'h23', timeZone: timeZoneSetting() === 'utc' ? 'UTC' : undefined,
  });
  const parts = {};
  for (const part of format.formatToParts(new Date(ms))) parts[part.type] = part.value;
  return parts;
}

// "2026-12-03 11:42:07" in the chosen zone (" UTC" appended when UTC).
export function formatTime(value) {
  const ms = typeof value === 'string' ? Date.parse(value) : Number(value);
  if (!Number.isFinite(ms)) return '–';
  const p = dateParts(ms);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}${timeZoneSetting() === 'utc' ? ' UTC' : ''}`;
}

// The value of an <input type="datetime-local"> for `ms` in the chosen zone, and back.
export function toDateTimeInput(ms) {
  const p = dateParts(ms);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

export function fromDateTimeInput(text) {
  if (!text) return NaN;
  return timeZoneSetting() === 'utc' ? Date.parse(`${text}:00Z`) : new Date(text).getTime();
}

export function formatDuration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}

// A time-axis label: "14:05" within a day, "12-03 14:05" over longer spans (24-hour
// clock, in the chosen zone).
export function formatAxisTime(ms, spanMs) {
  const p = dateParts(ms);
  return spanMs > 86400e3 ? `${p.month}-${p.day} ${p.hour}:${p.minute}` : `${p.hour}:${p.minute}`;
}
