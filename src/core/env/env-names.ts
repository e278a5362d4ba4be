// Which envFrom keys become variables. Before RelaxedEnvironmentVariableValidation the kubelet
// skipped keys that are not C-like names extended with `-` and `.` (and reported them in a
// `InvalidEnvironmentVariableNames` event); with it, any printable ASCII except `=` is accepted.

const CLASSIC = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const RELAXED = /^[\x20-\x3c\x3e-\x7e]+$/;

export type NameRule = 'classic' | 'relaxed';

export function isEnvVarName(name: string, rule: NameRule = 'classic'): boolean {
  if (rule === 'relaxed') return RELAXED.test(name);
  return CLASSIC.test(name) && name !== '.' && !name.startsWith('..');
}
