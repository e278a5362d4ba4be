// What a developer claims: requests whose header `name` equals `value` (or whose W3C baggage has a
// member `name=value`) on one listen port of the sidecar.

export interface Claim {
  /** Header name, kept lower-case; compared case-insensitively. */
  readonly header: string;
  /** Header value, compared exactly. */
  readonly value: string;
}

export type ClaimProblem = { readonly field: 'header' | 'value' | 'developer'; readonly reason: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII without spaces: safe in a header value and in a baggage member without encoding.
const VISIBLE = /^[\x21-\x7e]+$/;
const MAX_VALUE = 256;
const MAX_DEVELOPER = 128;

/** Headers that would route connection plumbing, not requests; claiming them is refused. */
const RESERVED = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer',
  'keep-alive', 'proxy-connection', 'baggage', 'authorization', 'cookie',
]);

export function checkClaim(header: string, value: string): ClaimProblem | undefined {
  if (!TOKEN.test(header)) return { field: 'header', reason: 'must be an HTTP header name (letters, digits, - and a few symbols)' };
  if (RESERVED.has(header.toLowerCase())) return { field: 'header', reason: `"${header}" is a reserved header and cannot be claimed` };
  if (value.length === 0 || value.length > MAX_VALUE || !VISIBLE.test(value)) {
    return { field: 'value', reason: `must be 1-${MAX_VALUE} visible ASCII characters without spaces, CR or LF` };
  }
  return undefined;
}

export function checkDeveloper(developer: string): ClaimProblem | undefined {
  if (developer.length === 0 || developer.length > MAX_DEVELOPER || !/^[\x20-\x7e]+$/.test(developer)) {
    return { field: 'developer', reason: `must be 1-${MAX_DEVELOPER} printable ASCII characters` };
  }
  return undefined;
}

export function claimLabel(c: Claim): string {
  return `${c.header}: ${c.value}`;
}
