// Connects an outbound stream's destination from inside the pod, within a bounded time, and names a
// failure by one of the protocol's reasons (docs/tunnel-protocol.md, "Outbound streams").
import * as net from 'node:net';
import { OutboundFailure } from '../../src/protocol/constants';
import type { Destination } from '../../src/protocol/destination';

export type OutboundFailureKind = (typeof OutboundFailure)[keyof typeof OutboundFailure];

export class DialError extends Error {
  constructor(
    readonly failure: OutboundFailureKind,
    readonly errno: string | undefined,
  ) {
    super(`${failure.reason}${errno === undefined ? '' : ` (${errno})`}`);
  }
}

function failureOf(code: string | undefined): OutboundFailureKind {
  switch (code) {
    case 'ECONNREFUSED':
      return OutboundFailure.refused;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
      return OutboundFailure.dns;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return OutboundFailure.unreachable;
    case 'ETIMEDOUT':
      return OutboundFailure.timeout;
    default:
      return OutboundFailure.failed;
  }
}

export interface PendingDial {
  readonly connected: Promise<net.Socket>;
  /** Gives up on the dial (the stream went away first). */
  cancel(): void;
}

/** Dials `dest`; the socket half-closes like the stream it will be piped to. */
export function dial(dest: Destination, timeoutMs: number): PendingDial {
  const socket = net.connect({ host: dest.host, port: dest.port, allowHalfOpen: true, noDelay: true });
  let timer: NodeJS.Timeout | undefined;
  const connected = new Promise<net.Socket>((resolve, reject) => {
    timer = setTimeout(() => {
      socket.destroy();
      reject(new DialError(OutboundFailure.timeout, undefined));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new DialError(failureOf(err.code), err.code));
    });
  });
  return {
    connected,
    cancel: () => {
      clearTimeout(timer);
      socket.destroy();
    },
  };
}
