// What the sidecars of a workload report: their claims (who holds what, connected or in grace) read
// from each ready pod's /v1/status through the API server's port-forward to the control port.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_PATH } from '../../protocol/constants';
import type { ClaimInfo, SidecarStatus } from '../../protocol/status';
import type { KubeClient } from '../kube/kube-client';
import { openPortForward } from '../kube/port-forward';
import { dialedRequestOptions } from '../tunnel/dialed-request';
import { isPodReady } from '../kube/pod-watch';
import { podsOf } from '../kube/workload-api';
import type { Workload } from '../kube/workloads';
import { SIDECAR_CONTAINER } from './names';
import type { InjectionRecord } from './injection-plan';

/** A claim a sidecar reports. */
export type SidecarClaim = ClaimInfo;

export interface PodStatus {
  readonly pod: string;
  readonly claims: readonly SidecarClaim[];
  /** Set when the pod's sidecar could not be asked. */
  readonly error?: string;
}

const STATUS_TIMEOUT_MS = 10_000;

/** GET /v1/status over one byte stream to the control port. */
export function readStatus(dial: () => Promise<Duplex>): Promise<SidecarStatus> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...dialedRequestOptions,
        path: STATUS_PATH,
        headers: { host: 'localhost', connection: 'close' },
        timeout: STATUS_TIMEOUT_MS,
        createConnection: (_opts, done) => {
          dial().then(
            (stream) => done(null, stream as never),
            (err: Error) => done(err, undefined as never),
          );
          return undefined;
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 1024 * 1024) body += c;
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as SidecarStatus);
          } catch {
            reject(new Error(`the sidecar answered ${res.statusCode} with no status`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('the sidecar did not answer its status in time')));
    req.on('error', reject);
    req.end();
  });
}

export async function sidecarStatus(client: KubeClient, workload: Workload, record: InjectionRecord): Promise<PodStatus[]> {
  const pods = (await podsOf(client, workload)).filter((p) => isPodReady(p) && p.spec?.containers.some((c) => c.name === SIDECAR_CONTAINER));
  return Promise.all(
    pods.map(async (p): Promise<PodStatus> => {
      const pod = p.metadata!.name!;
      try {
        const status = await readStatus(() => openPortForward(client.apiServerAccess(), workload.namespace, pod, record.controlPort));
        return { pod, claims: status.claims };
      } catch (err) {
        return { pod, claims: [], error: (err as Error).message };
      }
    }),
  );
}

/** Developers holding a claim on any pod, each named once. */
export function holdersOf(statuses: readonly PodStatus[]): string[] {
  return [...new Set(statuses.flatMap((s) => s.claims.map((c) => c.developer)))].sort();
}
