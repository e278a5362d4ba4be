// The destination of an outbound stream, as its CONNECT `:authority` names it: `host:port`, with an
// IPv6 address in brackets (`[::1]:5432`), as in an HTTP CONNECT request (RFC 9110 §9.3.6).
import { isIPv6 } from 'node:net';

export interface Destination {
  /** A DNS name or an IP address; an IPv6 address without brackets. */
  readonly host: string;
  readonly port: number;
}

// A DNS name (letters, digits, `-`, `_`, dots) or an IPv4 address; no userinfo, no path.
const NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$/;

/** The destination an authority names, or undefined when it is not `host:port`. */
export function parseDestination(authority: string | undefined): Destination | undefined {
  if (authority === undefined) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined) return isIPv6(m[1]) ? { host: m[1], port } : undefined;
  return NAME.test(m[2]!) ? { host: m[2]!, port } : undefined;
}

/** The authority naming `host` and `port`. */
export function formatDestination(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
