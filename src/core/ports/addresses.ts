// Ports written the ways servers accept them: "8000", ":8000", "0.0.0.0:8000", "[::]:8000",
// "tcp://0.0.0.0:3000", "http://localhost:5000", "http://+:80".

/** A listening port: 1..65535. Port 0 asks the system for any free port, which cannot be known ahead. */
export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d{1,5}\s*$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The port of a bare port, a host:port, or a URL; undefined when it names none. */
export function portFromAddress(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return portFromUrl(value);
  const m = /^(?:\[[^\]]*\]|[^:\s]*):(\d+)$/.exec(value);
  if (m) return parsePort(m[1]);
  return parsePort(value);
}

function portFromUrl(url: string): number | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(?:\[[^\]]*\]|[^/:?#]*)(?::(\d+))?/i.exec(url);
  if (!m) return undefined;
  if (m[2] !== undefined) return parsePort(m[2]);
  const scheme = m[1]!.toLowerCase();
  return scheme === 'http' ? 80 : scheme === 'https' ? 443 : undefined;
}

/**
 * The ports of a URL list as ASP.NET Core and others take it ("https://localhost:7182;http://localhost:5010"),
 * plain-HTTP ones only when there are any: the sidecar forwards plain HTTP to the laptop, so an HTTPS
 * endpoint is only worth naming when the program has no other.
 */
export function portsFromUrlList(text: string | undefined): { port: number; https: boolean }[] {
  if (text === undefined) return [];
  const all = text
    .split(/[;,\s]+/)
    .filter((u) => u !== '')
    .map((u) => ({ port: portFromAddress(u), https: /^https:/i.test(u) }))
    .filter((u): u is { port: number; https: boolean } => u.port !== undefined);
  const http = all.filter((u) => !u.https);
  return http.length > 0 ? http : all;
}
