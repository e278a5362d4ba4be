// Joins a local TCP connection and a tunnelled stream, both ways, as one connection: bytes and
// half-closes pass through (with backpressure), and an abort on either side aborts the other, as a
// TCP RST to the local program and a reset (CANCEL) stream to the sidecar.
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';

function abortStream(stream: Duplex): void {
  const h2 = stream as Partial<http2.ClientHttp2Stream>;
  if (stream.destroyed) return;
  if (typeof h2.close === 'function') h2.close(http2.constants.NGHTTP2_CANCEL);
  else stream.destroy();
}

export function splice(socket: net.Socket, stream: Duplex): void {
  socket.on('error', () => undefined);
  stream.on('error', () => undefined);
  socket.pipe(stream);
  stream.pipe(socket);
  socket.once('close', (hadError) => {
    if (hadError) abortStream(stream);
  });
  stream.once('close', () => {
    const rst = (stream as Partial<http2.ClientHttp2Stream>).rstCode;
    const aborted = rst !== undefined ? rst !== http2.constants.NGHTTP2_NO_ERROR : !stream.readableEnded;
    if (aborted && !socket.destroyed) socket.resetAndDestroy();
  });
}
