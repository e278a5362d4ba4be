// Requests through a Service, as kube-proxy routes them, one after another until stopped: what the
// "traffic without a claim never fails" tests count.
import type { KubeConfig } from '@kubernetes/client-node';
import { requestService } from './service.js';

export interface TrafficTally {
  sent: number;
  failed: number;
  wrong: number;
  errors: string[];
}

/** A pod's own answer (the test app's JSON), not the developer's program or an error. */
export const fromApp = (status: number, body: string): boolean => status === 200 && body.startsWith('{');

export function trafficLoop(
  namespace: string,
  service: string,
  port: number,
  kc: KubeConfig,
  check: (status: number, body: string) => boolean,
  headers: Record<string, string> = {},
): { tally: TrafficTally; stop: () => Promise<TrafficTally> } {
  let running = true;
  const tally: TrafficTally = { sent: 0, failed: 0, wrong: 0, errors: [] };
  const done = (async () => {
    // Bounded: a few thousand requests at most, whatever the timing.
    for (let i = 0; running && i < 20_000; i++) {
      tally.sent++;
      try {
        const r = await requestService(namespace, service, port, { kubeConfig: kc, headers, timeoutMs: 20_000 });
        if (!check(r.status, r.body.toString())) {
          tally.wrong++;
          if (tally.errors.length < 5) tally.errors.push(`${r.status} from ${r.pod}: ${r.body.toString().slice(0, 120)}`);
        }
      } catch (err) {
        tally.failed++;
        if (tally.errors.length < 5) tally.errors.push((err as Error).message);
      }
    }
  })();
  return {
    tally,
    stop: async () => {
      running = false;
      await done;
      return tally;
    },
  };
}
