// The extension's settings, read typed, each from one place.
import * as vscode from 'vscode';
import { Setting, type OnDebugSessionEnd } from './ids';

/** A Service the user wants reachable on 127.0.0.1 while intercepting (`intercept.forwardServices`). */
export interface ServiceForward {
  readonly service: string;
  /** Default: the intercepted workload's namespace. */
  readonly namespace?: string;
  readonly port: number;
  /** Default: a free port. */
  readonly localPort?: number;
}

export interface Settings {
  readonly headerName: string;
  /** Empty: the generated value of this machine. */
  readonly headerValue: string;
  readonly proxyImage: string;
  /** Seconds; undefined: the sidecar's default. */
  readonly gracePeriodSeconds: number | undefined;
  readonly onDebugSessionEnd: OnDebugSessionEnd;
  /** Namespaces shown in the tree; empty: all the user may list. */
  readonly namespaces: readonly string[];
  /** Debug sessions tied to an intercept get the workload's environment. */
  readonly debugWithClusterEnvironment: boolean;
  /** The kubeconfig context; empty: the kubeconfig's current context. */
  readonly context: string;
  /** A proxy Intercept adds lets claim holders call out from the pod (outbound streams). */
  readonly outboundCalls: boolean;
  /** Plain-HTTP calls out through the proxy get the developer's header when they lack it. */
  readonly propagateHeader: boolean;
  readonly forwardServices: readonly ServiceForward[];
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(Setting.section);
  const end = c.get<string>(Setting.onDebugSessionEnd, 'pause');
  return {
    headerName: c.get<string>(Setting.headerName, 'x-intercept-id').trim() || 'x-intercept-id',
    headerValue: c.get<string>(Setting.headerValue, '').trim(),
    proxyImage: c.get<string>(Setting.proxyImage, '').trim(),
    gracePeriodSeconds: positiveSeconds(c.get<number>(Setting.gracePeriodSeconds, 0)),
    onDebugSessionEnd: end === 'keep' || end === 'stop' ? end : 'pause',
    namespaces: c.get<string[]>(Setting.namespaces, []).filter((n) => typeof n === 'string' && n.length > 0),
    context: c.get<string>(Setting.context, '').trim(),
    debugWithClusterEnvironment: c.get<boolean>(Setting.debugWithClusterEnvironment, false) === true,
    outboundCalls: c.get<boolean>(Setting.outboundCalls, true) !== false,
    propagateHeader: c.get<boolean>(Setting.propagateHeader, true) !== false,
    forwardServices: serviceForwards(c.get<unknown>(Setting.forwardServices, [])),
  };
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;

/** The well-formed entries of `intercept.forwardServices` (the settings editor flags the others). */
function serviceForwards(value: unknown): ServiceForward[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((e: Record<string, unknown>) => {
    if (!e || typeof e !== 'object' || typeof e.service !== 'string' || !DNS_LABEL.test(e.service) || !isPort(e.port)) return [];
    if (e.namespace !== undefined && (typeof e.namespace !== 'string' || !DNS_LABEL.test(e.namespace))) return [];
    if (e.localPort !== undefined && !isPort(e.localPort)) return [];
    return [{ service: e.service, port: e.port, ...(e.namespace ? { namespace: e.namespace } : {}), ...(e.localPort ? { localPort: e.localPort } : {}) }];
  });
}

function positiveSeconds(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

export function affectsSettings(e: vscode.ConfigurationChangeEvent, ...keys: string[]): boolean {
  return keys.some((k) => e.affectsConfiguration(`${Setting.section}.${k}`));
}

export async function writeSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration(Setting.section).update(key, value, vscode.ConfigurationTarget.Global);
}
