// The sidecar's memory depends on how Node runs it (SIDECAR_NODE_ARGS and SIDECAR_ENV, where the
// measurements are). V8 takes those settings only at start, so the sidecar cannot apply them itself;
// it can say that they are missing.
import { SIDECAR_ENV, SIDECAR_NODE_ARGS } from '../../src/protocol/constants';

/** The settings this process runs without, as they would be written (flags, then NAME=value). */
export function missingRuntimeSettings(execArgv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const missing = SIDECAR_NODE_ARGS.filter((arg) => !execArgv.includes(arg));
  for (const [name, value] of Object.entries(SIDECAR_ENV)) if (env[name] === undefined) missing.push(`${name}=${value}`);
  return missing;
}
