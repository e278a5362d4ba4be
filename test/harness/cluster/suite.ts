// What every test file of the intercept against the cluster sets up the same way: its own namespace
// with a pod runner, the core's client and the built sidecar, a list of clean-ups run in reverse after
// the tests, sessions that stop themselves then, keep-alive connections into each pod, and the
// command line run with a state folder of its own (never the user's).
import { after, before } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../src/core/kube/kube-client.js';
import type { Injection } from '../../../src/core/session/injector.js';
import { InterceptSession } from '../../../src/core/session/intercept-session.js';
import type { SidecarBuild } from '../../../src/core/session/sidecar-build.js';
import { builtSidecar } from './apps.js';
import { KeepAliveClient } from './keep-alive.js';
import { createTestNamespace, deleteNamespace, kubeconfigPath, loadKubeConfig, repoRoot } from './kube.js';
import { PodRunner } from './pod-runner.js';
import { connectService, waitForServiceEndpoints } from './service.js';

export const CLI = path.join(repoRoot, 'dist', 'cli.js');

export interface SessionOptions {
  injection: Injection;
  value: string;
  developer: string;
  localPort: number;
  /** Another identity than the suite's admin client (RBAC tests). */
  client?: KubeClient;
}

/** `intercept start ...` running in the background. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
}

export class ClusterSuite {
  kc!: KubeConfig;
  ns!: string;
  runner!: PodRunner;
  client!: KubeClient;
  build!: SidecarBuild;
  private readonly cleanups: (() => unknown)[] = [];
  private readonly stateHome = mkdtempSync(path.join(os.tmpdir(), 'intercept-cli-state-'));

  /** Runs after the tests, last registered first, before the runner stops. */
  cleanup(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  async startSession(o: SessionOptions): Promise<InterceptSession> {
    const s = new InterceptSession({
      client: o.client ?? this.client,
      injection: o.injection,
      claim: { header: 'x-intercept-id', value: o.value },
      developer: o.developer,
      local: { host: '127.0.0.1', port: o.localPort },
    });
    this.cleanup(() => s.stop());
    await s.start();
    return s;
  }

  /** Keep-alive clients into each ready pod on the Service's current target port, as kube-proxy would route. */
  async perPod(service: string, port: number, count: number): Promise<{ pod: string; http: KeepAliveClient }[]> {
    const targets = await waitForServiceEndpoints(this.ns, service, port, count, { kubeConfig: this.kc });
    return Promise.all(
      targets.map(async (t) => {
        const { socket } = await connectService(this.ns, service, port, { kubeConfig: this.kc, pod: t.pod });
        return { pod: t.pod, http: new KeepAliveClient(socket) };
      }),
    );
  }

  cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG: kubeconfigPath(), XDG_STATE_HOME: this.stateHome, ...extra };
  }

  /** Starts the command line in the background; it is killed after the tests if still running. */
  startCli(args: string[]): CliProcess {
    const child = spawn(process.execPath, [CLI, ...args], { env: this.cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    this.cleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    return { child, output: () => out, exited };
  }

  async setUp(prefix: string): Promise<void> {
    this.kc = loadKubeConfig();
    this.ns = await createTestNamespace(this.kc, prefix);
    this.runner = await PodRunner.start({ kubeConfig: this.kc, namespace: this.ns });
    this.client = new KubeClient(this.kc);
    this.build = await builtSidecar();
  }

  async tearDown(): Promise<void> {
    for (const c of this.cleanups.reverse()) {
      try {
        await c();
      } catch {
        // a clean-up that fails must not keep the others from running
      }
    }
    await this.runner?.stop();
    if (this.ns) await deleteNamespace(this.kc, this.ns, { wait: true });
    rmSync(this.stateHome, { recursive: true, force: true });
  }
}

/** Registers the suite's before and after hooks in the current describe block. */
export function clusterSuite(prefix: string): ClusterSuite {
  const suite = new ClusterSuite();
  before(() => suite.setUp(prefix));
  after(() => suite.tearDown());
  return suite;
}
