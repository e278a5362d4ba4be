// openPortForward: one TCP connection to a pod's port through the API server
// (`pods/<pod>/portforward`, WebSocket, v4.channel.k8s.io), as a Duplex with backpressure both ways.
// Framing: every message starts with a channel byte; channel 0 carries the data of the (single)
// port, channel 1 its errors; the first message on each channel is the port, 2 bytes little-endian.
// A WebSocket has no half-close: end() of the writable side closes the forward, as destroy() does.
import { Duplex } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';

const DATA = 0;
const ERROR = 1;
const MAX_FRAME = 64 * 1024;

class PortForwardStream extends Duplex {
  private readonly seenPrefix = [false, false];
  private errorText = '';

  constructor(private readonly ws: WebSocket) {
    super({ allowHalfOpen: true });
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('close', () => {
      if (this.errorText) this.destroy(new Error(`port-forward error: ${this.errorText}`));
      else this.push(null);
    });
    ws.on('error', (err) => this.destroy(err));
  }

  private onMessage(data: Buffer): void {
    const channel = data[0];
    let payload = data.subarray(1);
    if (channel !== DATA && channel !== ERROR) return;
    if (!this.seenPrefix[channel]) {
      this.seenPrefix[channel] = true;
      payload = payload.subarray(2);
    }
    if (payload.length === 0) return;
    if (channel === ERROR) {
      this.errorText += payload.toString();
      return;
    }
    if (!this.push(payload)) this.ws.pause();
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      cb(new Error('port-forward WebSocket is closed'));
      return;
    }
    // Small frames; the callback of the last one fires once it is handed to the socket.
    for (let off = 0; off < chunk.length; off += MAX_FRAME) {
      const part = chunk.subarray(off, off + MAX_FRAME);
      const frame = Buffer.allocUnsafe(part.length + 1);
      frame[0] = DATA;
      part.copy(frame, 1);
      const last = off + MAX_FRAME >= chunk.length;
      this.ws.send(frame, { binary: true }, last ? (err) => cb(err ?? null) : undefined);
    }
  }

  // Port-forward has no half-close: ending the writable side closes the forward (after what was
  // written), as a TCP close would, so the pod's side sees its connection end.
  override _final(cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    cb(err);
  }
}

/** Opens a port-forward to `port` of pod `namespace/pod`; resolves once the WebSocket is open. */
export async function openPortForward(kc: KubeConfig, namespace: string, pod: string, port: number, timeoutMs = 15_000): Promise<Duplex> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = `${cluster.server.replace(/^http/, 'ws')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward?ports=${port}`;
  const options: WebSocket.ClientOptions = { perMessageDeflate: false, maxPayload: 4 * 1024 * 1024, handshakeTimeout: timeoutMs };
  await kc.applyToHTTPSOptions(options);
  const ws = new WebSocket(url, ['v4.channel.k8s.io'], options);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        req.destroy();
        reject(new Error(`port-forward to ${namespace}/${pod}:${port} refused: HTTP ${res.statusCode} ${body.trim()}`));
      });
      res.on('error', reject);
    });
    ws.once('error', reject);
  });
  return new PortForwardStream(ws);
}
