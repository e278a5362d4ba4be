// Pod processes run on the host's filesystem, so a path the pod spec names inside a container (a
// command line argument, an environment value) is rewritten to the host folder that holds what is
// mounted there. Only whole path components count: with a mount at /intercept, `/intercept/x.js`,
// `--file=/intercept/x.js` and `PATH=/bin:/intercept` are rewritten; `/intercepted/x.js` is not.

export interface HostMount {
  /** Where the container sees the volume (no trailing slash). */
  mountPath: string;
  /** The folder (or file, with subPath) on the host that stands for it. */
  hostPath: string;
  readOnly: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `value` with every container path under a mount replaced by its host path (the longest mountPath wins). */
export function toHostPaths(value: string, mounts: readonly HostMount[]): string {
  const usable = mounts.filter((m) => m.mountPath !== '/' && m.mountPath.startsWith('/'));
  if (usable.length === 0) return value;
  const byPath = new Map(usable.map((m) => [m.mountPath.replace(/\/+$/, ''), m.hostPath]));
  const alternatives = [...byPath.keys()].sort((a, b) => b.length - a.length).map(escape);
  // A path starts the value or follows `=` or `:`, and ends at `/`, `:`, `,` or the end of the value.
  const pattern = new RegExp(`(^|[=:])(${alternatives.join('|')})(?=$|[/:,])`, 'g');
  return value.replace(pattern, (_m, pre: string, mountPath: string) => `${pre}${byPath.get(mountPath)!}`);
}
