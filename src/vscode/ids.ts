// Every id the extension shares with package.json lives here, typed, so a rename is one edit. The
// host test checks that package.json and these agree.
export const CommandId = {
  showLog: 'intercept.showLog',
  refresh: 'intercept.refresh',
  switchContext: 'intercept.switchContext',
  chooseNamespaces: 'intercept.chooseNamespaces',
  intercept: 'intercept.intercept',
  stop: 'intercept.stop',
  copyHeader: 'intercept.copyHeader',
  copyCurl: 'intercept.copyCurl',
  removeProxy: 'intercept.removeProxy',
  statusBarMenu: 'intercept.statusBarMenu',
  showRequestLog: 'intercept.showRequestLog',
  copyRequestAsCurl: 'intercept.copyRequestAsCurl',
  clearRequestLog: 'intercept.clearRequestLog',
  writeEnvFile: 'intercept.writeEnvFile',
} as const;
export type CommandId = (typeof CommandId)[keyof typeof CommandId];

export const ViewId = {
  services: 'intercept.services',
  requests: 'intercept.requests',
} as const;
export type ViewId = (typeof ViewId)[keyof typeof ViewId];

/** Context keys for `when` clauses. */
export const ContextKey = {
  /** 'ok', or the kind of failure that keeps the Services view from showing the cluster (its welcome content). */
  clusterState: 'intercept.clusterState',
  /** True while this window holds at least one intercept. */
  intercepting: 'intercept.intercepting',
} as const;

export type ClusterState = 'ok' | 'no-kubeconfig' | 'bad-kubeconfig' | 'unreachable' | 'tls' | 'unauthorized';

/**
 * Tree items' contextValues, `intercept.<kind>[.<state>]`, matched by `viewItem =~ /.../` in
 * package.json menus.
 */
export const ContextValue = {
  context: 'intercept.context',
  namespace: 'intercept.namespace',
  serviceIntercepted: 'intercept.service.intercepted',
  serviceProxied: 'intercept.service.proxied',
  service: 'intercept.service.plain',
  serviceRefused: 'intercept.service.refused',
  portIntercepted: 'intercept.port.intercepted',
  portProxied: 'intercept.port.proxied',
  port: 'intercept.port.plain',
  portRefused: 'intercept.port.refused',
  request: 'intercept.request',
  message: 'intercept.message',
} as const;

export const Setting = {
  section: 'intercept',
  headerName: 'headerName',
  headerValue: 'headerValue',
  proxyImage: 'proxyImage',
  gracePeriodSeconds: 'gracePeriodSeconds',
  onDebugSessionEnd: 'onDebugSessionEnd',
  namespaces: 'namespaces',
  context: 'context',
  debugWithClusterEnvironment: 'debugWithClusterEnvironment',
  outboundCalls: 'outboundCalls',
  propagateHeader: 'propagateHeader',
  forwardServices: 'forwardServices',
} as const;

export type OnDebugSessionEnd = 'keep' | 'pause' | 'stop';

export const OUTPUT_CHANNEL_NAME = 'Intercept';
