// Points variables that name in-cluster Services at the local ends of the outbound forwards:
// `http://orders:8080`, `orders.shop.svc.cluster.local:5432`, `redis://:pw@cache:6379/0` and
// `mongodb://a:27017,b:27017` become 127.0.0.1:<local port>. A host is a Service when it reads
// `name`, `name.namespace`, `name.namespace.svc` or `name.namespace.svc.<cluster domain>` and the
// forwards know that Service and port; a URL without a port uses its scheme's default port. Anything
// else (external hosts, IPs, SRV schemes, a host without a port outside a URL) is left as it is.
import type { EnvVariable } from './types';

export interface AddressChange {
  readonly variable: string;
  readonly before: string;
  readonly after: string;
  /** Each address replaced: `orders.shop:8080` → `127.0.0.1:40123`. */
  readonly replaced: readonly { readonly from: string; readonly to: string }[];
  /** The value is secret: show `replaced`, never `before`/`after`. */
  readonly secret: boolean;
}

export interface RewriteResult {
  readonly variables: readonly EnvVariable[];
  readonly changes: readonly AddressChange[];
}

const DEFAULT_PORTS: Record<string, number> = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  redis: 6379,
  rediss: 6379,
  postgres: 5432,
  postgresql: 5432,
  mysql: 3306,
  mariadb: 3306,
  amqp: 5672,
  amqps: 5671,
  mongodb: 27017,
  nats: 4222,
  memcached: 11211,
};

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const HOST = `${LABEL}(?:\\.${LABEL})*`;
/** scheme://authority, the authority ending at / ? # or a character no authority holds. */
const URL_AUTHORITY = /([a-z][a-z0-9+.-]*):\/\/([^/?#\s"'<>`\\;)]*)/gi;
/** host:port standing alone (not part of a longer name, a userinfo or a longer number). */
const BARE = new RegExp(`(?<![\\w.@-])(${HOST}):(\\d{1,5})(?![\\w@-]|\\.\\w)`, 'gi');
const HOST_PORT = new RegExp(`^(${HOST})\\.?(?::(\\d{1,5}))?$`, 'i');

/**
 * `forwards` maps `service:port` (a Service of `namespace`) or `service.ns:port` to the local port
 * where the forward listens.
 */
export function rewriteClusterAddresses(variables: readonly EnvVariable[], namespace: string, forwards: ReadonlyMap<string, number>): RewriteResult {
  const known = new Map<string, number>();
  for (const [key, local] of forwards) {
    const m = /^([^.:]+)(?:\.([^.:]+))?:(\d+)$/.exec(key.toLowerCase());
    if (m) known.set(`${m[1]}.${m[2] ?? namespace}:${m[3]}`, local);
  }
  return rewrite(variables, namespace, (service, port) => known.get(`${service}:${port}`));
}

/** A Service address a variable names: `service` is `name.namespace`. */
export interface ServiceAddress {
  readonly service: string;
  readonly port: number;
}

/**
 * The Service addresses the variables name, each once, in the order they appear: the forwards an
 * environment needs. `isService` says whether `name.namespace` is a Service with that port.
 */
export function serviceAddressesIn(variables: readonly EnvVariable[], namespace: string, isService: (service: string, port: number) => boolean): ServiceAddress[] {
  const found = new Map<string, ServiceAddress>();
  rewrite(variables, namespace, (service, port) => {
    if (isService(service, port)) found.set(`${service}:${port}`, { service, port });
    return undefined;
  });
  return [...found.values()];
}

/** `lookup` gets `name.namespace` and a port, and answers the local port standing for it, if any. */
function rewrite(variables: readonly EnvVariable[], namespace: string, lookup: (service: string, port: number) => number | undefined): RewriteResult {
  const localFor = (host: string, port: number): number | undefined => {
    const service = serviceOf(host.toLowerCase().replace(/\.$/, ''), namespace);
    return service ? lookup(service, port) : undefined;
  };

  const changes: AddressChange[] = [];
  const out = variables.map((v) => {
    const replaced: { from: string; to: string }[] = [];
    const after = rewriteValue(v.value, localFor, replaced);
    if (replaced.length === 0) return v;
    changes.push({ variable: v.name, before: v.value, after, replaced, secret: v.secret });
    return { ...v, value: after };
  });
  return { variables: out, changes };
}

/** `name.namespace` of a host naming a Service, or undefined. */
function serviceOf(host: string, namespace: string): string | undefined {
  const parts = host.split('.');
  if (parts.length === 1) return `${parts[0]}.${namespace}`;
  if (parts.length === 2) return `${parts[0]}.${parts[1]}`;
  if (parts[2] === 'svc') return `${parts[0]}.${parts[1]}`;
  return undefined;
}

type LocalFor = (host: string, port: number) => number | undefined;

function rewriteValue(value: string, localFor: LocalFor, replaced: { from: string; to: string }[]): string {
  // URLs first (their authorities may hold userinfo and host lists), then bare host:port between them.
  let out = '';
  let last = 0;
  for (const m of value.matchAll(URL_AUTHORITY)) {
    const scheme = m[1]!.toLowerCase();
    const authority = m[2]!;
    const start = m.index + m[0].length - authority.length;
    out += rewriteBare(value.slice(last, start), localFor, replaced);
    out += rewriteAuthority(scheme, authority, localFor, replaced);
    last = start + authority.length;
  }
  return out + rewriteBare(value.slice(last), localFor, replaced);
}

function rewriteAuthority(scheme: string, authority: string, localFor: LocalFor, replaced: { from: string; to: string }[]): string {
  if (scheme.endsWith('+srv')) return authority; // hosts found through DNS SRV records: no port to forward
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
  const hosts = authority.slice(at + 1);
  const rewritten = hosts.split(',').map((hostPort) => {
    const m = HOST_PORT.exec(hostPort);
    if (!m) return hostPort;
    const port = m[2] !== undefined ? Number(m[2]) : DEFAULT_PORTS[scheme];
    if (port === undefined) return hostPort;
    const local = localFor(m[1]!, port);
    if (local === undefined) return hostPort;
    const to = `127.0.0.1:${local}`;
    replaced.push({ from: m[2] !== undefined ? hostPort : `${hostPort}:${port}`, to });
    return to;
  });
  return userinfo + rewritten.join(',');
}

function rewriteBare(text: string, localFor: LocalFor, replaced: { from: string; to: string }[]): string {
  return text.replace(BARE, (whole, host: string, port: string) => {
    const local = localFor(host, Number(port));
    if (local === undefined) return whole;
    const to = `127.0.0.1:${local}`;
    replaced.push({ from: whole, to });
    return to;
  });
}
