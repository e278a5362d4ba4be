// Whether a request already carries the developer's claim, the way the sidecar matches it
// (docs/tunnel-protocol.md, "Matching"): the header itself, or a W3C baggage member of that name.

/** `raw` is a raw header list (name, value, name, value ...). */
export function carriesClaim(raw: readonly string[], header: string): boolean {
  const name = header.toLowerCase();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!.toLowerCase();
    if (n === name) return true; // the program propagated its own value: left as it is
    if (n !== 'baggage') continue;
    for (const member of raw[i + 1]!.split(',')) {
      const key = member.split('=')[0]!.trim().toLowerCase();
      if (key === name) return true;
    }
  }
  return false;
}

/**
 * The environment that makes a runtime use the proxy: HTTP_PROXY, HTTPS_PROXY and NO_PROXY (both
 * cases), and NODE_USE_ENV_PROXY, without which Node's own HTTP clients ignore them (Node 22.21 and
 * 24.5 on read it; older versions ignore it).
 */
export function proxyEnvironment(proxyPort: number, noProxy: readonly string[] = []): Record<string, string> {
  const proxy = `http://127.0.0.1:${proxyPort}`;
  const none = ['localhost', '127.0.0.1', '::1', ...noProxy].join(',');
  return { HTTP_PROXY: proxy, http_proxy: proxy, HTTPS_PROXY: proxy, https_proxy: proxy, NO_PROXY: none, no_proxy: none, NODE_USE_ENV_PROXY: '1' };
}
