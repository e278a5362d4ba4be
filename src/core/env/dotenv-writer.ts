// The pod environment as a .env file: a comment header saying where it came from, one NAME=value
// line per variable, quoted so that dotenv readers (node --env-file, dotenv, python-dotenv, Docker
// Compose) read the value back unchanged. Readers agree on little beyond single quotes (no escapes,
// no interpolation), so: bare when plain; single quotes when the value has no ' and no line break;
// double quotes with \n for line breaks when it has no " or \; backticks (node, dotenv) when it has
// none and no line break; last, double quotes with \\ \" \n \r escaped (python-dotenv, Compose).
// Secret values are written only when chosen; otherwise their names are listed in a comment.
import type { EnvNote, EnvVariable } from './types';

export interface DotenvOrigin {
  /** `Deployment orders` */
  readonly workload: string;
  readonly namespace: string;
  readonly container: string;
  readonly context: string;
  readonly pod?: string;
  readonly writtenAt: Date;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const PLAIN = /^[A-Za-z0-9_./:@%+,=-]+$/;

export function quoteDotenvValue(value: string): string {
  if (value === '') return '';
  if (PLAIN.test(value)) return value;
  if (!/['\r\n]/.test(value)) return `'${value}'`;
  if (!/["\\]/.test(value)) return `"${value.replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"`;
  if (!/[`\r\n]/.test(value)) return `\`${value}\``;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

export function formatDotenv(variables: readonly EnvVariable[], notes: readonly EnvNote[], origin: DotenvOrigin, includeSecrets: boolean): string {
  const lines = [
    `# Environment of ${origin.workload}, container ${origin.container}, namespace ${origin.namespace} (context ${origin.context})${origin.pod ? `, as pod ${origin.pod} sees it` : ''}.`,
    `# Written by Intercept at ${origin.writtenAt.toISOString()}; it does not follow later changes in the cluster.`,
  ];
  const secretsOut = includeSecrets ? [] : variables.filter((v) => v.secret);
  const unnamed = variables.filter((v) => !NAME.test(v.name));
  if (secretsOut.length > 0) lines.push(`# Secret values left out (not chosen): ${secretsOut.map((v) => v.name).join(', ')}`);
  if (unnamed.length > 0) lines.push(`# Names dotenv cannot hold, left out: ${unnamed.map((v) => JSON.stringify(v.name)).join(', ')}`);
  for (const note of notes) lines.push(`# ${note.message.replace(/[\r\n]+/g, ' ')}`);
  lines.push('');
  for (const v of variables) {
    if (!NAME.test(v.name) || (v.secret && !includeSecrets)) continue;
    lines.push(`${v.name}=${quoteDotenvValue(v.value)}`);
  }
  return `${lines.join('\n')}\n`;
}
