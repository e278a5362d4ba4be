// Bounded waits for conditions that tests observe from outside: a flag, the sidecar's claim list.
import type { ClaimInfo, SidecarStatus } from '../../src/protocol/status';
import { get } from './servers';

/** Polls `cond` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export type ClaimStatus = ClaimInfo;

/** The sidecar's /v1/status now. */
export async function statusOf(controlPort: number): Promise<SidecarStatus> {
  return JSON.parse((await get(controlPort, '/v1/status')).body) as SidecarStatus;
}

/** The claims the sidecar's control port lists now. */
export async function claimsOf(controlPort: number): Promise<ClaimStatus[]> {
  return [...(await statusOf(controlPort)).claims];
}

/** Waits until the sidecar's claim list satisfies `cond`. */
export async function waitForClaims(controlPort: number, cond: (claims: ClaimStatus[]) => boolean, timeoutMs = 5000): Promise<void> {
  let last: ClaimStatus[] = [];
  try {
    await waitFor(async () => cond((last = await claimsOf(controlPort))), 'the claim list to match', timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}
