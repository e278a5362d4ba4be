// PHP: the built-in server's `-S host:port` in runtimeArgs, and Laravel's `artisan serve --port`.
// A plain PHP script has no default port: the port only exists when -S asks for one.
import path from 'node:path';
import { portFromAddress } from '../addresses';
import { lastFlag } from '../args';
import { addEnvPort, type Candidates } from '../candidates';
import { toPosix, type DetectContext } from '../context';

export function detectPhp(ctx: DetectContext, found: Candidates): void {
  // -S localhost:0 lets the system pick: unknown until the server prints it, so no candidate.
  const builtIn = lastFlag(ctx.runtimeArgs, ['-S']);
  if (builtIn) found.add(portFromAddress(builtIn.value), '-S in runtimeArgs', 'certain');

  const program = ctx.field('program');
  if (program && path.posix.basename(toPosix(program)) === 'artisan' && ctx.args.includes('serve')) {
    const flag = lastFlag(ctx.args, ['--port']);
    if (flag) found.add(portFromAddress(flag.value), `${flag.flag} in args`, 'certain');
    addEnvPort(ctx, found, 'SERVER_PORT', 'certain');
    found.fallback = { port: 8000, source: 'Laravel default' };
  }
}
