// Byte classes of HTTP/1 (RFC 9110 §5.6.2, RFC 9112), as lookup tables: the parsers test bytes one
// at a time on the hot path, and a table load is cheaper than a chain of comparisons.

const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** A byte of a token (method, field name, chunk extension name). */
export function isTokenChar(c: number): boolean {
  return TCHAR[c] === 1;
}

/** A byte allowed inside a field value: HTAB, SP, visible ASCII and obs-text; no other control byte, no DEL. */
export function isFieldValueChar(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c !== 0x7f);
}

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
