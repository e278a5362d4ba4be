// The processes descending from one root, from a flat (pid, parent pid) table such as every
// platform can list. Parent ids may point at processes that are gone or, on Windows, at a reused
// id, so the walk guards against cycles.

export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
}

/** The root and every process below it; the root is included even if the table lacks it. */
export function processTree(rootPid: number, entries: Iterable<ProcessEntry>): Set<number> {
  const children = new Map<number, number[]>();
  for (const { pid, ppid } of entries) {
    if (pid === ppid) continue; // the idle process on Windows is its own parent
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const tree = new Set<number>([rootPid]);
  const queue = [rootPid];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const child of children.get(next) ?? []) {
      if (tree.has(child)) continue;
      tree.add(child);
      queue.push(child);
    }
  }
  return tree;
}
