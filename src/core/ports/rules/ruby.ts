// Ruby: `rails server` (-p, --port, PORT, config/puma.rb) and rackup/puma, started by the rdbg
// debugger (command + script + args), the older Ruby debugger (program + args) or ruby_lsp.
import path from 'node:path';
import { parsePort, portFromAddress } from '../addresses';
import { lastFlag, words } from '../args';
import { addEnvPort, type Candidates } from '../candidates';
import { toPosix, type DetectContext } from '../context';
import { detectGeneric } from './generic';

export async function detectRuby(ctx: DetectContext, found: Candidates): Promise<void> {
  const command = [...['command', 'script', 'program'].flatMap((f) => words(ctx.field(f))), ...ctx.args];
  const names = command.map((w) => path.posix.basename(toPosix(w)));
  const rails = names.includes('rails') && command.some((w) => w === 'server' || w === 's');
  const rack = names.includes('rackup') || names.includes('puma');
  if (!rails && !rack) {
    detectGeneric(ctx, found);
    return;
  }
  const flag = lastFlag(command, ['-p', '--port']);
  if (flag) found.add(parsePort(flag.value), `${flag.flag} in args`, 'certain');
  const bind = lastFlag(command, ['-b', '--bind', '--binding']);
  if (bind && /:\d+$/.test(bind.value)) found.add(portFromAddress(bind.value), `${bind.flag} in args`, 'certain');
  addEnvPort(ctx, found, 'PORT', 'certain'); // rails server and the generated puma.rb both read PORT

  const puma = await ctx.read('config/puma.rb');
  if (puma) found.add(pumaPort(puma.text), `${puma.shown} port`, 'likely');
  found.fallback = rails ? { port: 3000, source: 'Rails default' } : { port: 9292, source: 'Rack default' };
}

/** `port 3000`, `port ENV.fetch("PORT") { 3000 }`, `port ENV.fetch("PORT", 3000)`, `bind "tcp://0.0.0.0:3000"`. */
export function pumaPort(text: string): number | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const port = /^port\s*\(?\s*(?:(\d+)|ENV\.fetch\(\s*["']\w+["']\s*(?:,\s*(\d+)\s*)?\)\s*(?:\{\s*(\d+)\s*\})?)/.exec(line);
    if (port) return parsePort(port[1] ?? port[2] ?? port[3]);
    const bind = /^bind\s*\(?\s*["']tcp:\/\/[^"']*:(\d+)["']/.exec(line);
    if (bind) return parsePort(bind[1]);
  }
  return undefined;
}
