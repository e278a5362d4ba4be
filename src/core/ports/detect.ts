// The local port a launch configuration's program will listen on, found from the configuration and
// the files it names, without running anything: the candidates, most likely first. Pure: it reads
// only through the workspace it is given, never the process environment.
import { Candidates } from './candidates';
import { createContext, type DetectContext } from './context';
import { detectDotnet } from './rules/dotnet';
import { detectGeneric, detectServerReady } from './rules/generic';
import { detectJava } from './rules/java';
import { detectPhp } from './rules/php';
import { detectPython } from './rules/python';
import { detectRuby } from './rules/ruby';
import type { LaunchConfiguration, PortCandidate, PortWorkspace } from './types';

export type { LaunchConfiguration, PortCandidate, PortWorkspace } from './types';
export { choosePort, type PortChoice } from './choose';

type Rule = (ctx: DetectContext, found: Candidates) => void | Promise<void>;

/** The rule for a configuration's debugger type; Node, Go and unknown types read PORT and --port. */
const RULES: Record<string, Rule> = {
  python: detectPython,
  debugpy: detectPython,
  coreclr: detectDotnet,
  dotnet: detectDotnet,
  java: detectJava,
  ruby: detectRuby,
  rdbg: detectRuby,
  ruby_lsp: detectRuby,
  php: detectPhp,
};

export async function detectPorts(config: LaunchConfiguration, workspace: PortWorkspace): Promise<PortCandidate[]> {
  const ctx = await createContext(config, workspace);
  const found = new Candidates();
  await (RULES[ctx.type] ?? detectGeneric)(ctx, found);
  detectServerReady(ctx, found);
  return found.result();
}
