// One TCP connection to a pod's port through the Kubernetes API server
// (`pods/<pod>/portforward`, WebSocket subprotocol v4.channel.k8s.io), as a Duplex with backpressure
// both ways. This is how the extension reaches a sidecar's loopback-only control port.
//
// Framing: every WebSocket message starts with a channel byte: 0 carries the port's data, 1 its
// errors; the first message on each channel is the port number (2 bytes, little-endian).
// Port-forward has no half-close: ending the writable side closes the forward, as a TCP close would,
// so the pod's side sees its connection end.
import { Duplex } from 'node:stream';
import WebSocket from 'ws';

/** What a port-forward needs of a kubeconfig: the server and a way to add TLS and credentials. */
export interface ApiServerAccess {
  /** The API server's URL, e.g. https://127.0.0.1:6443. */
  readonly server: string;
  /** Adds client certificates, CA and auth headers to the WebSocket options. */
  applyTo(options: WebSocket.ClientOptions): Promise<void>;
}

export type PortForwardFailure = 'forbidden' | 'not-found' | 'refused' | 'unreachable';

export class PortForwardError extends Error {
  constructor(
    readonly kind: PortForwardFailure,
    message: string,
  ) {
    super(message);
    this.name = 'PortForwardError';
  }
}

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
      if (this.errorText) this.destroy(new PortForwardError('refused', `port-forward error: ${this.errorText.trim()}`));
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
      cb(new PortForwardError('refused', 'the port-forward is closed'));
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

  override _final(cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    cb(err);
  }
}

function refusal(status: number, body: string, namespace: string, pod: string, port: number): PortForwardError {
  const where = `pod ${namespace}/${pod}`;
  let detail = body.trim();
  try {
    const parsed = JSON.parse(detail) as { message?: unknown };
    if (typeof parsed.message === 'string') detail = parsed.message;
  } catch {
    // not a Kubernetes Status object
  }
  if (status === 401 || status === 403) {
    return new PortForwardError(
      'forbidden',
      `Kubernetes refused the port-forward to ${where}: your account may not "create" "pods/portforward" in namespace "${namespace}" (HTTP ${status}: ${detail}). Ask for that permission.`,
    );
  }
  if (status === 404) return new PortForwardError('not-found', `${where} was not found (HTTP 404: ${detail}).`);
  return new PortForwardError('refused', `The API server refused the port-forward to ${where}:${port} (HTTP ${status}: ${detail}).`);
}

/** Opens a port-forward to `port` of `namespace/pod`; resolves once the WebSocket is open. */
export async function openPortForward(
  api: ApiServerAccess,
  namespace: string,
  pod: string,
  port: number,
  timeoutMs = 15_000,
): Promise<Duplex> {
  const url = `${api.server.replace(/^http/, 'ws')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward?ports=${port}`;
  const options: WebSocket.ClientOptions = { perMessageDeflate: false, maxPayload: 4 * 1024 * 1024, handshakeTimeout: timeoutMs };
  await api.applyTo(options);
  const ws = new WebSocket(url, ['v4.channel.k8s.io'], options);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        if (body.length < 16 * 1024) body += c.toString();
      });
      res.on('end', () => {
        req.destroy();
        reject(refusal(res.statusCode ?? 0, body, namespace, pod, port));
      });
      res.on('error', () => reject(new PortForwardError('unreachable', `The API server closed the port-forward request to ${namespace}/${pod}.`)));
    });
    ws.once('error', (err) => reject(new PortForwardError('unreachable', `Cannot reach the API server at ${api.server}: ${err.message}`)));
  });
  return new PortForwardStream(ws);
}
