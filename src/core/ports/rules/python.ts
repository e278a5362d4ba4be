// Python web servers started by a debugpy configuration: `module` (flask, uvicorn, gunicorn, fastapi,
// hypercorn, django) or a `program` that is manage.py or a server's own script (.venv/bin/uvicorn).
import path from 'node:path';
import { portFromAddress } from '../addresses';
import { lastFlag, splitCommandLine } from '../args';
import { addEnvPort, type Candidates } from '../candidates';
import { toPosix, type DetectContext } from '../context';
import { detectGeneric } from './generic';

type Server = 'django' | 'flask' | 'uvicorn' | 'gunicorn' | 'hypercorn' | 'fastapi';
const SERVERS: readonly Server[] = ['django', 'flask', 'uvicorn', 'gunicorn', 'hypercorn', 'fastapi'];

export function pythonServer(ctx: DetectContext): Server | undefined {
  const module = ctx.field('module')?.split('.')[0];
  if (module) return SERVERS.find((s) => s === module);
  const program = ctx.field('program');
  if (program) {
    const base = path.posix.basename(toPosix(program)).replace(/\.exe$/, '');
    if (base === 'manage.py' || base === 'django-admin') return 'django';
    const server = SERVERS.find((s) => s === base);
    if (server) return server;
  }
  if (ctx.config.django === true && ctx.args.includes('runserver')) return 'django';
  return undefined;
}

export function detectPython(ctx: DetectContext, found: Candidates): void {
  const server = pythonServer(ctx);
  const args = ctx.args;
  switch (server) {
    case 'django': {
      // runserver [addrport]: "8000", "0.0.0.0:8000", "[::]:8000"
      const at = args.indexOf('runserver');
      const addrport = at < 0 ? undefined : args.slice(at + 1).find((a) => !a.startsWith('-'));
      found.add(portFromAddress(addrport), 'runserver address in args', 'certain');
      found.fallback = { port: 8000, source: 'Django default' };
      return;
    }
    case 'flask': {
      const flag = lastFlag(args, ['--port', '-p']);
      if (flag) found.add(portFromAddress(flag.value), `${flag.flag} in args`, 'certain');
      addEnvPort(ctx, found, 'FLASK_RUN_PORT', 'certain');
      found.fallback = { port: 5000, source: 'Flask default' };
      return;
    }
    case 'uvicorn':
    case 'fastapi': {
      const flag = lastFlag(args, ['--port']);
      if (flag) found.add(portFromAddress(flag.value), `${flag.flag} in args`, 'certain');
      if (server === 'uvicorn') addEnvPort(ctx, found, 'UVICORN_PORT', 'certain');
      found.fallback = { port: 8000, source: server === 'uvicorn' ? 'uvicorn default' : 'FastAPI default' };
      return;
    }
    case 'gunicorn':
    case 'hypercorn': {
      const flag = lastFlag(args, ['--bind', '-b']);
      if (flag) found.add(portFromAddress(flag.value), `${flag.flag} in args`, 'certain');
      if (server === 'gunicorn') {
        const fromEnv = ctx.env.get('GUNICORN_CMD_ARGS');
        const bind = fromEnv && lastFlag(splitCommandLine(fromEnv.value), ['--bind', '-b']);
        if (bind) found.add(portFromAddress(bind.value), `${fromEnv.from} GUNICORN_CMD_ARGS ${bind.flag}`, 'certain');
        // gunicorn binds 0.0.0.0:$PORT when PORT is set and no bind is given
        if (!flag && !bind) addEnvPort(ctx, found, 'PORT', 'certain');
      }
      found.fallback = { port: 8000, source: `${server} default` };
      return;
    }
    default:
      detectGeneric(ctx, found);
  }
}
