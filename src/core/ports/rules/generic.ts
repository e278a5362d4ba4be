// What any program may follow: a PORT-style environment variable, a --port or an address flag on
// its command line (Node, Go and anything without a rule of its own), and serverReadyAction's uriFormat.
import { portFromAddress } from '../addresses';
import { flagValues } from '../args';
import { addEnvPort, type Candidates } from '../candidates';
import type { DetectContext } from '../context';

/** Variables programs commonly read their HTTP port from; DB_PORT and the like name other servers. */
export const PORT_VARIABLES = ['PORT', 'HTTP_PORT', 'SERVER_PORT', 'APP_PORT', 'WEB_PORT', 'API_PORT', 'LISTEN_PORT'];

const PORT_FLAGS = ['--port', '-port', '-p', '--http-port', '-http-port', '--listen-port'];
/** Flags that take an address (":8080", "0.0.0.0:8080", "localhost:8080"), as Go programs often do. */
const ADDRESS_FLAGS = ['--addr', '-addr', '--address', '-address', '--listen', '-listen', '--http', '-http', '--bind', '-b', '--http-addr', '-http-addr', '--http.addr'];

export function detectGeneric(ctx: DetectContext, found: Candidates): void {
  for (const [list, where] of [
    [ctx.args, 'args'],
    [ctx.runtimeArgs, 'runtimeArgs'],
  ] as const) {
    for (const { flag, value } of flagValues(list, PORT_FLAGS).reverse()) found.add(portFromAddress(value), `${flag} in ${where}`, 'likely');
    for (const { flag, value } of flagValues(list, ADDRESS_FLAGS).reverse()) found.add(portFromAddress(value), `${flag} in ${where}`, 'likely');
  }
  for (const name of PORT_VARIABLES) addEnvPort(ctx, found, name, 'likely');
}

/**
 * serverReadyAction opens a URL once the program prints a line matching `pattern`; the pattern alone
 * names no port (it captures whatever is printed), but a uriFormat with a literal port does.
 */
export function detectServerReady(ctx: DetectContext, found: Candidates): void {
  const action = ctx.config.serverReadyAction;
  if (typeof action !== 'object' || action === null) return;
  const uriFormat = (action as Record<string, unknown>).uriFormat;
  if (typeof uriFormat !== 'string' || uriFormat.includes('%s') || uriFormat.includes('%d')) return;
  const m = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)/i.exec(uriFormat);
  if (m) found.add(portFromAddress(`http://x:${m[1]}`), 'serverReadyAction uriFormat', 'likely');
}
