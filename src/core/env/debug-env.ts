// The environment a debug configuration gets: the pod's variables, with the user's own `env` entries
// of the launch configuration winning. The names where the user's value replaced the pod's are
// returned so the editor can list them.
import type { EnvVariable } from './types';

export interface DebugEnvironment {
  readonly env: Record<string, string>;
  /** Pod variables the launch configuration's own `env` replaced (or removed with null). */
  readonly userWins: readonly string[];
}

export function debugEnvironment(pod: readonly EnvVariable[], userEnv: Readonly<Record<string, string | null | undefined>> = {}): DebugEnvironment {
  const env: Record<string, string> = {};
  for (const v of pod) env[v.name] = v.value;
  const userWins: string[] = [];
  for (const [name, value] of Object.entries(userEnv)) {
    if (name in env && env[name] !== value) userWins.push(name);
    // VS Code launch configurations remove a variable with null.
    if (value === null || value === undefined) delete env[name];
    else env[name] = value;
  }
  return { env, userWins };
}
