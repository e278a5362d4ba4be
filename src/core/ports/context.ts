// What every rule reads from one launch configuration: its variables resolved, its environment
// (envFile, then env over it, as the debuggers merge them), its command-line words, and files
// read relative to the workspace folder or the configuration's cwd.
import path from 'node:path';
import { words } from './args';
import { parseDotenv } from './dotenv';
import type { LaunchConfiguration, PortWorkspace } from './types';

export interface EnvValue {
  value: string;
  /** "launch.json env" or the env file's path, for the candidate's source. */
  from: string;
}

export interface DetectContext {
  config: LaunchConfiguration;
  /** The configuration's type in lower case: "node", "debugpy", "coreclr" ... */
  type: string;
  /** Absolute, with forward slashes. */
  folder: string;
  /** The program's working directory, absolute. */
  cwd: string;
  env: Map<string, EnvValue>;
  args: string[];
  runtimeArgs: string[];
  vmArgs: string[];
  /** Any string field with its variables resolved, or undefined when it is not a string. */
  field(name: string): string | undefined;
  /** A file's text by a path relative to `base` (default: cwd) or absolute; its path as shown in sources. */
  read(file: string, base?: string): Promise<{ text: string; shown: string } | undefined>;
}

const posix = path.posix;

export function toPosix(p: string): string {
  return p.replace(/\\/g, '/');
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:\//.test(p);
}

export function resolvePath(p: string, base: string): string {
  const file = toPosix(p);
  return posix.normalize(isAbsolute(file) ? file : `${base}/${file}`).replace(/\/$/, '');
}

export async function createContext(config: LaunchConfiguration, workspace: PortWorkspace): Promise<DetectContext> {
  const folder = toPosix(workspace.folder).replace(/\/$/, '');
  const env = workspace.env ?? {};
  const substitute = (value: string, cwd: string): string =>
    value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      if (name === 'workspaceFolder' || name === 'workspaceRoot') return folder;
      if (name === 'workspaceFolderBasename') return posix.basename(folder);
      if (name === 'cwd') return cwd;
      if (name === 'pathSeparator' || name === '/') return '/';
      if (name.startsWith('env:')) return env[name.slice(4)] ?? '';
      return whole; // ${input:...}, ${command:...}: unknown here, left as written
    });

  const rawCwd = typeof config.cwd === 'string' ? substitute(config.cwd, folder) : folder;
  const cwd = resolvePath(rawCwd, folder);
  const resolve = (value: string): string => substitute(value, cwd);
  const shown = (abs: string): string => (abs.startsWith(`${folder}/`) ? abs.slice(folder.length + 1) : abs);

  const read = async (file: string, base = cwd): Promise<{ text: string; shown: string } | undefined> => {
    const abs = resolvePath(resolve(file), base);
    const text = await workspace.readFile(shown(abs));
    return text === undefined ? undefined : { text, shown: shown(abs) };
  };

  const merged = new Map<string, EnvValue>();
  for (const envFile of typeof config.envFile === 'string' ? [config.envFile] : []) {
    const file = await read(envFile, folder);
    if (!file) continue;
    for (const [name, value] of Object.entries(parseDotenv(file.text))) merged.set(name, { value, from: file.shown });
  }
  for (const [name, value] of Object.entries(config.env ?? {})) {
    if (typeof value === 'string') merged.set(name, { value: resolve(value), from: 'launch.json env' });
    else if (value === null) merged.delete(name); // null removes a variable in the node debugger
  }

  return {
    config,
    type: typeof config.type === 'string' ? config.type.toLowerCase() : '',
    folder,
    cwd,
    env: merged,
    args: words(config.args).map(resolve),
    runtimeArgs: words(config.runtimeArgs).map(resolve),
    vmArgs: words(config.vmArgs).map(resolve),
    field: (name) => {
      const value = config[name];
      return typeof value === 'string' ? resolve(value) : undefined;
    },
    read,
  };
}
