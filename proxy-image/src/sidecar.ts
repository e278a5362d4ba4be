// Composes the sidecar: one listen server per port mapping, the control server on loopback, the
// health server, the claim registry they share, and the reader of announced claims that feeds it.
import * as net from 'node:net';
import type * as http from 'node:http';
import { ClaimRegistry } from './claims';
import { ClaimsFolder } from './claims-folder';
import { ClientConnection, SERVER_FIRST_WINDOW_MS } from './client-connection';
import type { ProxyConfig } from './config';
import { ControlServer } from './control-server';
import { outOfFdsCode, FdExhaustionWarning } from './fd-exhaustion';
import { createHealthServer } from './health-server';
import type { Logger } from './log';
import { Sweeper } from './sweeper';
import type { TunnelSession } from './tunnel-session';

export class Sidecar {
  private readonly registry: ClaimRegistry<TunnelSession>;
  private readonly sweeper: Sweeper;
  private readonly listeners: net.Server[] = [];
  private readonly control: ControlServer;
  private readonly health: http.Server;
  private stopping = false;
  private readonly connections = new Set<ClientConnection>();
  private onAllClosed: (() => void) | null = null;
  private readonly fdWarning: FdExhaustionWarning;
  private readonly claimsFolder: ClaimsFolder | null;

  constructor(
    private readonly config: ProxyConfig,
    private readonly log: Logger,
  ) {
    this.fdWarning = new FdExhaustionWarning(log);
    this.registry = new ClaimRegistry(config.graceMs, log);
    this.claimsFolder =
      config.claimsDir === null ? null : new ClaimsFolder(config.claimsDir, config.mappings.map((m) => m.listenPort), this.registry, log);
    this.sweeper = new Sweeper(config.headerTimeoutMs, config.idleTimeoutMs, SERVER_FIRST_WINDOW_MS);
    this.control = new ControlServer({
      port: config.controlPort,
      mappings: config.mappings,
      registry: this.registry,
      log,
      tunnelTimeoutMs: config.tunnelTimeoutMs,
      outbound: config.outbound ? { maxStreams: config.outboundMaxStreams, connectTimeoutMs: config.outboundConnectTimeoutMs } : undefined,
    });
    this.health = createHealthServer(() => this.stopping);
    for (const m of config.mappings) {
      const ctx = {
        listenPort: m.listenPort,
        appPort: m.appPort,
        appHost: config.appHost,
        registry: this.registry,
        log,
        maxHeaderBytes: config.maxHeaderBytes,
        sweeper: this.sweeper,
        graceMs: config.graceMs,
        fdWarning: this.fdWarning,
        onClosed: this.onConnectionClosed,
      };
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
        this.connections.add(new ClientConnection(socket, ctx));
      });
      this.listeners.push(server);
    }
  }

  private readonly onConnectionClosed = (conn: ClientConnection): void => {
    this.connections.delete(conn);
    if (this.connections.size === 0) this.onAllClosed?.();
  };

  async start(): Promise<void> {
    const listen = (server: net.Server, port: number, host: string): Promise<void> =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    // Before the listen ports accept: the first request of a pod that started during an intercept
    // already finds the announced claims.
    await this.claimsFolder?.start();
    await this.control.listen();
    await Promise.all(this.config.mappings.map((m, i) => listen(this.listeners[i]!, m.listenPort, this.config.bindAddress)));
    await listen(this.health, this.config.healthPort, this.config.bindAddress);
    this.config.mappings.forEach((m, i) => this.listeners[i]!.on('error', (err) => this.onAcceptError(m.listenPort, err)));
    this.control.server.on('error', (err) => this.onAcceptError(this.config.controlPort, err));
    this.health.on('error', (err) => this.onAcceptError(this.config.healthPort, err));
    this.log.info('intercept-proxy started', {
      listen: this.config.mappings.map((m) => `${m.listenPort}->${this.config.appHost}:${m.appPort}`).join(','),
      controlPort: this.config.controlPort,
      healthPort: this.config.healthPort,
      graceMs: this.config.graceMs,
      claimsDir: this.config.claimsDir ?? undefined,
      outbound: this.config.outbound,
    });
  }

  /**
   * A listening server's 'error' is a failed accept; the server goes on listening. At the limit of
   * open files Node's event loop (libuv) keeps a reserve descriptor to accept and close the waiting
   * connections and reports nothing: such clients see a closed connection, and the warning comes
   * from the first request that cannot connect to the app. What arrives here is what that reserve
   * could not handle, or another error.
   */
  private onAcceptError(port: number, err: Error): void {
    const code = outOfFdsCode(err);
    if (code !== undefined) this.fdWarning.report('accepting a connection', code);
    else this.log.error('accepting a connection failed', { port, error: err.message });
  }

  /**
   * Shuts down without cutting anyone's request: goes on accepting for `delayMs` (readiness answers
   * 503), then stops accepting, closes idle connections, lets
   * requests in flight finish (each connection closes after its current exchange) for up to
   * `drainMs`, then ends the tunnels (their claims end with the pod) and whatever is left.
   */
  async stop(drainMs: number, delayMs: number): Promise<void> {
    this.stopping = true;
    // Endpoints still name this pod for a moment: keep serving new connections until they catch up.
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    for (const s of this.listeners) s.close();
    this.health.close();
    for (const c of this.connections) c.drain();
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        this.onAllClosed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.log.info('drained', { connectionsLeft: this.connections.size });
    this.control.close();
    this.claimsFolder?.close();
    this.registry.close();
    this.sweeper.close();
    for (const c of this.connections) c.abort();
  }
}
