// The candidates one detection collects, in the order the rules find them (each rule adds what
// wins first), sorted by confidence at the end.
import { parsePort } from './addresses';
import type { DetectContext } from './context';
import type { PortCandidate } from './types';

const RANK: Record<PortCandidate['confidence'], number> = { certain: 0, likely: 1, guess: 2 };

export class Candidates {
  private readonly found: PortCandidate[] = [];
  /** The framework's default, added only when nothing else names a port. */
  fallback: { port: number; source: string } | undefined;

  add(port: number | undefined, source: string, confidence: PortCandidate['confidence']): void {
    if (port === undefined) return;
    if (this.found.some((c) => c.port === port && c.source === source)) return;
    this.found.push({ port, source, confidence });
  }

  get size(): number {
    return this.found.length;
  }

  /** Most likely first; among equals, in the order found. */
  result(): PortCandidate[] {
    const all = [...this.found];
    if (all.length === 0 && this.fallback) all.push({ ...this.fallback, confidence: 'guess' });
    return all.map((c, i) => ({ c, i })).sort((a, b) => RANK[a.c.confidence] - RANK[b.c.confidence] || a.i - b.i).map((x) => x.c);
  }
}

/** A port held by an environment variable of the launch (env or envFile). */
export function addEnvPort(ctx: DetectContext, found: Candidates, name: string, confidence: PortCandidate['confidence']): void {
  const v = ctx.env.get(name);
  if (v) found.add(parsePort(v.value), `${v.from} ${name}`, confidence);
}
