// The Services the user names in `intercept.forwardServices`: while an intercept is active (and its
// proxy allows calls out), each gets a listener on 127.0.0.1 whose connections the sidecar dials from
// the pod, for tools the user points there themselves (a database client, grpcurl, redis-cli).
import * as vscode from 'vscode';
import type { InterceptOutbounds } from '../../core/outbound/intercept-outbounds';
import type { Intercept, Intercepts } from '../../core/session/intercepts';
import { readSettings, type ServiceForward } from '../settings';

export class ServiceForwards implements vscode.Disposable {
  private readonly opened = new WeakSet<Intercept>();
  private readonly onChanged = (i: Intercept) => {
    if (i.status === 'paused' || i.status === 'stopped') {
      this.opened.delete(i); // the outbound session closed with the claims; opened again on resume
      return;
    }
    if (i.status !== 'active' || this.opened.has(i)) return;
    const wanted = readSettings().forwardServices;
    if (wanted.length === 0 || !i.injection.record.outbound) return;
    this.opened.add(i);
    void this.open(i, wanted);
  };

  constructor(
    private readonly intercepts: Intercepts,
    private readonly outbounds: InterceptOutbounds,
    private readonly log: vscode.LogOutputChannel,
  ) {
    intercepts.on('changed', this.onChanged);
  }

  private async open(i: Intercept, wanted: readonly ServiceForward[]): Promise<void> {
    const outbound = this.outbounds.of(i);
    try {
      await outbound.start();
    } catch (err) {
      this.log.warn(`${i.id}: the Services in intercept.forwardServices cannot be reached through the pod: ${(err as Error).message}`);
      return;
    }
    const opened: string[] = [];
    for (const w of wanted) {
      const name = `${w.service}.${w.namespace ?? i.namespace}`;
      try {
        const localPort = await outbound.forward(`${name}.svc`, w.port, w.localPort);
        opened.push(`${name}:${w.port} on 127.0.0.1:${localPort}`);
        this.log.info(`${i.id}: ${name}:${w.port} from the pod on 127.0.0.1:${localPort}`);
      } catch (err) {
        this.log.warn(`${i.id}: no local listener for ${name}:${w.port}: ${(err as Error).message}`);
      }
    }
    if (opened.length > 0) void vscode.window.showInformationMessage(`Intercept: through the pod, ${opened.join('; ')}.`);
  }

  dispose(): void {
    this.intercepts.off('changed', this.onChanged);
  }
}
