// Whether the editor can take a port without asking: the candidates are deduplicated by port
// (keeping the best source), then the most confident tier decides. One port in it, named once or
// by several sources that agree, is taken; several different ports in it are truly ambiguous,
// and the person is asked, with every candidate and where it came from.
import type { PortCandidate } from './types';

export type PortChoice = { port: number; source: string } | { ask: PortCandidate[] } | { none: true };

const RANK: Record<PortCandidate['confidence'], number> = { certain: 0, likely: 1, guess: 2 };

export function choosePort(candidates: readonly PortCandidate[]): PortChoice {
  const best = new Map<number, PortCandidate>();
  for (const c of candidates) {
    const kept = best.get(c.port);
    if (!kept || RANK[c.confidence] < RANK[kept.confidence]) best.set(c.port, c);
  }
  const unique = [...best.values()].sort((a, b) => RANK[a.confidence] - RANK[b.confidence]);
  if (unique.length === 0) return { none: true };
  const top = unique.filter((c) => c.confidence === unique[0]!.confidence);
  if (top.length === 1) return { port: top[0]!.port, source: top[0]!.source };
  return { ask: unique };
}
