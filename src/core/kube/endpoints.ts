// Waits until the EndpointSlices of a Service port point at the expected container port: after a
// Service's targetPort changes, traffic follows only once the slices (and the proxies reading them)
// have the new port.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreError } from '../errors';
import type { KubeClient } from './kube-client';

export async function waitForSlicePort(
  client: KubeClient,
  namespace: string,
  service: string,
  portName: string,
  expectedPort: number,
  opts: { timeoutMs?: number; everyMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const { timeoutMs = 60_000, everyMs = 250, signal } = opts;
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  for (;;) {
    const list = await client.call({ verb: 'list', resource: 'endpointslices.discovery.k8s.io', namespace }, () =>
      client.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` }),
    );
    const ports = list.items.flatMap((s) => (s.ports ?? []).filter((p) => (p.name ?? '') === portName).map((p) => p.port));
    seen = ports.join(',');
    // Slices without endpoints list no port at all; those with endpoints must all name the new one.
    if (ports.length > 0 && ports.every((p) => p === expectedPort)) return;
    if (Date.now() >= deadline || signal?.aborted) {
      throw new CoreError({
        kind: 'unexpected',
        message: `The endpoints of Service ${namespace}/${service} did not move to port ${expectedPort} within ${Math.round(timeoutMs / 1000)} s (they list: ${seen || 'no ports'}).`,
        hint: 'Check that the pods are ready and that the cluster\'s endpoint controller runs.',
      });
    }
    await sleep(everyMs);
  }
}
