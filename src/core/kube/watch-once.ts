// One watch request, run until the API server or the network ends it: the promise resolves with what
// ended it (an error, or nothing for a clean end). `started` receives the handle that ends it early,
// so that a stop() can cut a watch that is still being set up.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export function watchOnce<T>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | boolean | undefined>,
  onEvent: (phase: string, object: T) => void,
  started: (abort: AbortController) => void,
): Promise<unknown> {
  const defined = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
  return new Promise<unknown>((resolve) => {
    new Watch(kc).watch(path, defined, onEvent, resolve).then(started).catch(resolve);
  });
}
