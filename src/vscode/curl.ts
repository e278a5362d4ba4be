// Ready-to-paste curl commands for an intercept: the request goes to the Service by its cluster name,
// with the developer's header, as a teammate inside the cluster would send it.
import type { Intercept } from '../core/session/intercepts';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function headerLine(i: Pick<Intercept, 'claim'>): string {
  return `${i.claim.header}: ${i.claim.value}`;
}

export function curlCommand(i: Pick<Intercept, 'claim' | 'namespace' | 'service' | 'port'>, method = 'GET', path = '/'): string {
  const m = method === 'GET' ? '' : ` -X ${method}`;
  return `curl${m} -H ${quote(headerLine(i))} ${quote(`http://${i.service}.${i.namespace}:${i.port}${path}`)}`;
}
