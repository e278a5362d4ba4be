// Decides whether a request carries a claim: a header with the claimed name (any case) and exactly
// the claimed value, or a W3C baggage member with the same key and value, so that context propagated
// by OpenTelemetry through several services keeps matching downstream.
import type { Header } from '../../src/protocol/http1/head';

/** Claims of one listen port: header name (lower-case) → value → holder. */
export type ClaimTable<T> = ReadonlyMap<string, ReadonlyMap<string, T>>;

export function matchClaim<T>(table: ClaimTable<T>, headers: readonly Header[]): T | undefined {
  for (const h of headers) {
    const byValue = table.get(h.name);
    if (byValue !== undefined) {
      const hit = byValue.get(h.value);
      if (hit !== undefined) return hit;
    }
  }
  for (const h of headers) {
    if (h.name === 'baggage') {
      const hit = matchBaggage(table, h.value);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/** Baggage is `key=value;property, key2=value2`; values are percent-encoded. */
function matchBaggage<T>(table: ClaimTable<T>, baggage: string): T | undefined {
  for (const member of baggage.split(',')) {
    const semi = member.indexOf(';');
    const pair = semi < 0 ? member : member.slice(0, semi);
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const byValue = table.get(pair.slice(0, eq).trim().toLowerCase());
    if (byValue === undefined) continue;
    const hit = byValue.get(percentDecode(pair.slice(eq + 1).trim()));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // malformed encoding: compare as written
  }
}
