// What a host's network address may be: one host and nothing else (no port, path, user or zone),
// so that an address put into a URL or a command argument can only mean that host.
import { isIPv4, isIPv6 } from 'node:net';

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Dotted decimal without leading zeros: "010.1.1.1" is octal to inet_aton, so it is refused. */
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Hex digits, colons and an optional trailing dotted quad: no zone id ("%eth0"), which URLs would need escaped. */
const IPV6_CHARACTERS = /^[0-9A-Fa-f:.]+$/;

/** An RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, at most 253 characters. */
export function isDnsName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split('.');
  if (!labels.every((label) => LABEL.test(label))) return false;
  // "1.2.3" or "0x7f.1" read as IPv4 by many resolvers: a name must not end in an all-numeric label.
  return !/^\d+$/.test(labels[labels.length - 1]);
}

export function isIpv4Literal(value: string): boolean {
  return IPV4.test(value) && isIPv4(value);
}

export function isIpv6Literal(value: string): boolean {
  const inner = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  return IPV6_CHARACTERS.test(inner) && inner.includes(':') && isIPv6(inner);
}

/** A host's network address: a DNS name, an IPv4 literal, or an IPv6 literal (bare or in brackets). */
export function isHostAddress(value: unknown): value is string {
  return typeof value === 'string' && (isIpv4Literal(value) || isIpv6Literal(value) || isDnsName(value));
}

export const HOST_ADDRESS_RULE =
  'a DNS name (letters, digits, hyphens and dots), an IPv4 address, or an IPv6 address (bare or in brackets), with no port, path or user';
