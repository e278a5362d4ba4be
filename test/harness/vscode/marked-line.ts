// Fixtures mark the line a test puts its breakpoint on with a comment; this finds it (1-based).
import { readFileSync } from 'node:fs';

export function markedLine(file: string, marker = 'BREAKPOINT'): number {
  const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;
  if (line === 0) throw new Error(`${file} marks no line with ${marker}`);
  return line;
}
