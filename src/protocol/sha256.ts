// SHA-256 of a text, in hex. node:crypto is loaded on the first call: the sidecar hashes only when a
// claim is released or a claims file is refused, and loading crypto at its start costs it about 3 MB.
import type * as Crypto from 'node:crypto';

let crypto: typeof Crypto | undefined;

export function sha256Hex(text: string): string {
  crypto ??= process.getBuiltinModule('node:crypto');
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}
