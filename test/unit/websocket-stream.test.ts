// The byte stream over a tunnel's WebSocket: once the HTTP/2 session has destroyed it, the WebSocket
// must still read on, or a release (close 1000) never completes its closing handshake.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { webSocketStream } from '../../src/protocol/websocket-stream';

describe('webSocketStream', () => {
  let server: WebSocketServer;

  before(async () => {
    // The peer answers "go" with a data message; its closing handshake is ws's own.
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (ws) => ws.on('message', () => ws.send(Buffer.from('late bytes'))));
    await once(server, 'listening');
  });

  after(async () => {
    for (const ws of server.clients) ws.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('completes the closing handshake when data arrives after the stream was destroyed', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await once(ws, 'open');
    const stream = webSocketStream(ws);
    stream.on('error', () => undefined);
    stream.destroy(); // the HTTP/2 session on top of it is gone
    // The release starts after the late bytes were handed to the destroyed stream.
    ws.once('message', () => ws.close(1000, 'release'));
    ws.send('go');
    // Bounded wait: without the fix the WebSocket stops reading at "late bytes" and only ws's own
    // 30 s close timer would end it.
    const closed = once(ws, 'close') as Promise<[number, Buffer]>;
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the closing handshake did not complete')), 5000).unref());
    try {
      const [code] = await Promise.race([closed, timeout]);
      assert.equal(code, 1000);
    } finally {
      ws.terminate();
    }
  });
});
