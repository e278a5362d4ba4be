// The byte stream an HTTP/2 session runs on inside a tunnel's WebSocket, with backpressure both ways.
// Unlike ws's createWebSocketStream, ending or destroying the stream never closes the WebSocket: the
// tunnel owns the WebSocket's life, so that a release (close code 1000) always reaches the other side
// even when the HTTP/2 session tears its stream down at the same moment.
import { Duplex } from 'node:stream';
import type WebSocket from 'ws';

export interface WebSocketStreamOptions {
  /** Sees every chunk written, before it is sent. */
  readonly onWrite?: (chunk: Buffer) => void;
}

export function webSocketStream(ws: WebSocket, opts: WebSocketStreamOptions = {}): Duplex {
  const stream = new Duplex({
    read: () => ws.resume(),
    write: (chunk: Buffer, _enc, cb) => {
      if (ws.readyState !== ws.OPEN) {
        cb(new Error('the tunnel WebSocket is closed'));
        return;
      }
      opts.onWrite?.(chunk);
      ws.send(chunk, { binary: true }, (err) => cb(err ?? null));
    },
    final: (cb) => cb(), // a WebSocket has no half-close; the tunnel closes it
    destroy: (err, cb) => {
      ws.resume(); // a paused WebSocket would not read the closing handshake
      cb(err);
    },
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // The protocol carries binary messages only: a text message is a peer that does not speak it.
    if (!isBinary) {
      ws.terminate();
      return;
    }
    // A destroyed stream refuses every push; the WebSocket must still read on to its close frame.
    if (!stream.push(data) && !stream.destroyed) ws.pause();
  });
  ws.on('close', () => stream.push(null));
  return stream;
}
