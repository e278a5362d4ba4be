// The modules only tunnels and outbound sessions use are loaded when the first WebSocket upgrade
// arrives, not at start: Node's http2, and ws with the TLS, crypto and zlib modules it loads. A sidecar
// that nobody has connected to yet (a workload whose proxy stays while no one intercepts) then holds
// about 12 MB less on Node 24 (npm run bench, "idle, no tunnel"): 48 MB instead of 60.
import type * as Http2 from 'node:http2';

let http2Module: typeof Http2 | undefined;

/** Node's http2; the first call loads it. */
export function http2(): typeof Http2 {
  return (http2Module ??= process.getBuiltinModule('node:http2'));
}

let wsModule: Promise<typeof import('ws')> | undefined;

/** The ws package; the first call loads it (the bundle keeps it as a module that runs on first use). */
export function loadWs(): Promise<typeof import('ws')> {
  return (wsModule ??= import('ws'));
}
