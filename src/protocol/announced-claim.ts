// Claims announced through a folder (a ConfigMap mounted into every sidecar of the workload): one
// file per claim, so that a pod which starts after the intercept began holds claimed requests until
// its tunnel arrives. The extension writes the files, the sidecar reads them; docs/tunnel-protocol.md
// ("Announced claims") describes the format. A file never holds the lease itself, only its SHA-256:
// anyone who can read the namespace can read a ConfigMap.
import { checkClaim, checkDeveloper } from './claim';
import { sha256Hex } from './sha256';

/** The JSON object in one file of the claims folder. */
export interface AnnouncedClaim {
  readonly v: 1;
  /** The sidecar listen port the claim is for. */
  readonly port: number;
  /** Header name; lower-case once parsed. */
  readonly header: string;
  readonly value: string;
  readonly developer: string;
  /** Hex SHA-256 of the lease the holder's tunnels present (see leaseSha256). */
  readonly leaseSha256: string;
  /** RFC 3339 UTC (`2025-01-31T12:00:00Z`, fractions allowed): after this the announcement ends. */
  readonly expiresAt: string;
}

export type AnnouncedClaimParse =
  | { readonly ok: true; readonly claim: AnnouncedClaim; readonly expiresAtMs: number }
  | { readonly ok: false; readonly reason: string };

export const ANNOUNCED_CLAIM_VERSION = 1;
/** Larger files are not read. */
export const ANNOUNCED_CLAIM_MAX_BYTES = 4096;
/** The sidecar reads at most this many files of the folder (by name order). */
export const ANNOUNCED_CLAIMS_MAX_FILES = 256;
/** How often the sidecar reads the folder again. */
export const ANNOUNCED_CLAIMS_POLL_MS = 1000;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

/** Hex SHA-256 of a lease (visible ASCII), as announced in `leaseSha256`. */
export function leaseSha256(lease: string): string {
  return sha256Hex(lease);
}

/**
 * The folder key (file name) for a claim: `claim-<port>-<32 hex>.json`, the hex being the start of the
 * SHA-256 of `<lower-case header>\n<value>`. A valid ConfigMap key (`[-._a-zA-Z0-9]+`, at most 253
 * characters) whatever the value holds, and one key per claim, so writing it again replaces it.
 */
export function announcedClaimFileName(port: number, header: string, value: string): string {
  const digest = sha256Hex(`${header.toLowerCase()}\n${value}`);
  return `claim-${port}-${digest.slice(0, 32)}.json`;
}

/** Parses and checks one file; a reason names the field at fault, never the file's content. */
export function parseAnnouncedClaim(text: string): AnnouncedClaimParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, reason: 'not a JSON object' };
  const o = data as Record<string, unknown>;
  if (o.v !== ANNOUNCED_CLAIM_VERSION) return { ok: false, reason: `"v" must be ${ANNOUNCED_CLAIM_VERSION}` };
  const { port, header, value, developer, leaseSha256: lease, expiresAt } = o;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: '"port" must be a port number 1-65535' };
  if (typeof header !== 'string' || typeof value !== 'string') return { ok: false, reason: '"header" and "value" must be strings' };
  if (typeof developer !== 'string') return { ok: false, reason: '"developer" must be a string' };
  const problem = checkClaim(header, value) ?? checkDeveloper(developer);
  if (problem !== undefined) return { ok: false, reason: `"${problem.field}" ${problem.reason}` };
  if (typeof lease !== 'string' || !SHA256_HEX.test(lease)) return { ok: false, reason: '"leaseSha256" must be 64 lower-case hex digits' };
  const expiresAtMs = typeof expiresAt === 'string' ? parseUtcTimestamp(expiresAt) : undefined;
  if (expiresAtMs === undefined) return { ok: false, reason: '"expiresAt" must be an RFC 3339 UTC time such as 2025-01-31T12:00:00Z' };
  return {
    ok: true,
    claim: { v: ANNOUNCED_CLAIM_VERSION, port, header: header.toLowerCase(), value, developer, leaseSha256: lease, expiresAt: expiresAt as string },
    expiresAtMs,
  };
}

/** Milliseconds since the epoch, or undefined for anything but a real UTC date-time. */
function parseUtcTimestamp(text: string): number | undefined {
  const m = RFC3339_UTC.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(Number(m[7] ?? '0') * 1000);
  const d = new Date(ms);
  // Date.UTC rolls over (February 30 becomes March 1); a real date comes back unchanged.
  const same = d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day && d.getUTCHours() === hour && d.getUTCMinutes() === minute && d.getUTCSeconds() === second;
  return same ? ms : undefined;
}
