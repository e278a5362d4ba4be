// Builds (or reuses) the test cluster's binaries from Go modules:
//   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kube-proxy  (k8s.io/kubernetes)
//   etcd                                                                          (go.etcd.io/etcd/server/v3)
//   kwok, kwokctl                                                                 (sigs.k8s.io/kwok)
//   coredns, with the plugins the cluster's DNS uses                              (github.com/coredns/coredns)
// into folders outside the repo keyed by the versions (see versions.mjs). A binary that exists and
// reports the expected version is not built again. Go's own caches stay in their default places.
//
// k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces each staging module (k8s.io/api, ...)
// by a folder of its own tree and requires it at v0.0.0. So a small module of ours requires
// k8s.io/kubernetes and replaces every module of that replace block with its published v0.N.P; the
// list is read from that very version's downloaded go.mod.
//
// Usage: node scripts/cluster/build.mjs [--print-bin]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COREDNS_VERSION, ETCD_VERSION, KUBERNETES_VERSION, KWOK_VERSION, binDir, buildDir, corednsBinDir } from './versions.mjs';

const bin = binDir();
const work = buildDir();
const stagingVersion = KUBERNETES_VERSION.replace(/^v1\./, 'v0.');
const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(KUBERNETES_VERSION);
// Two cores: at most two compile jobs, and a lower priority than whatever else runs on the machine.
const goFlags = ['-p', '2', '-trimpath'];
const goEnv = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod -buildvcs=false' };

const k8sCommands = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kube-proxy'];

/** What each binary must print to count as built at the right version. */
const expected = {
  'kube-apiserver': { args: ['--version'], text: `Kubernetes ${KUBERNETES_VERSION}` },
  'kube-controller-manager': { args: ['--version'], text: `Kubernetes ${KUBERNETES_VERSION}` },
  'kube-scheduler': { args: ['--version'], text: `Kubernetes ${KUBERNETES_VERSION}` },
  kubectl: { args: ['version', '--client'], text: `Client Version: ${KUBERNETES_VERSION}` },
  'kube-proxy': { args: ['--version'], text: `Kubernetes ${KUBERNETES_VERSION}` },
  etcd: { args: ['--version'], text: `etcd Version: ${ETCD_VERSION.slice(1)}` },
  kwok: { args: ['--version'], text: `kwok version ${KWOK_VERSION}` },
  kwokctl: { args: ['--version'], text: `kwokctl version ${KWOK_VERSION}` },
  coredns: { args: ['-version'], text: `CoreDNS-${COREDNS_VERSION.slice(1)}` },
};

/** Where a binary lives: CoreDNS in a folder of its own version, the rest together. */
export function binaryPath(name) {
  return path.join(name === 'coredns' ? corednsBinDir() : bin, name);
}

function log(msg) {
  console.log(`[cluster:build] ${msg}`);
}

function isCurrent(name) {
  const file = binaryPath(name);
  if (!existsSync(file)) return false;
  const r = spawnSync(file, expected[name].args, { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 && `${r.stdout}${r.stderr}`.includes(expected[name].text);
}

function go(args, cwd) {
  log(`go ${args.join(' ')}`);
  // nice: other work on this machine (tests, benchmarks) keeps its share of the two cores.
  const r = spawnSync('nice', ['-n', '10', 'go', ...args], { cwd, env: goEnv, stdio: 'inherit', timeout: 60 * 60_000 });
  if (r.status !== 0) throw new Error(`go ${args.join(' ')} failed in ${cwd} (exit ${r.status ?? r.signal})`);
}

function goOut(args, cwd) {
  const r = spawnSync('go', args, { cwd, env: goEnv, encoding: 'utf8', timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`go ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function freshModule(dir, name) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const goVersion = goOut(['env', 'GOVERSION'], dir).trim().replace(/^go/, '').split('.').slice(0, 2).join('.');
  writeFileSync(path.join(dir, 'go.mod'), `module ${name}\n\ngo ${goVersion}.0\n`);
}

/** The module paths k8s.io/kubernetes replaces with folders of its own tree, from its own go.mod. */
function stagingModules() {
  const info = JSON.parse(goOut(['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`], work));
  if (!info.GoMod) throw new Error(`no go.mod for k8s.io/kubernetes@${KUBERNETES_VERSION}: ${info.Error ?? ''}`);
  const text = readFileSync(info.GoMod, 'utf8');
  const mods = [...text.matchAll(/^\s*(?:replace\s+)?(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
  if (mods.length === 0) throw new Error(`found no staging replacements in ${info.GoMod}`);
  return mods;
}

/** Builds the given commands of k8s.io/kubernetes (only those missing or stale: the rest stay). */
function buildKubernetes(commands) {
  const dir = path.join(work, 'kubernetes');
  freshModule(dir, 'intercept.test/kubernetes-build');
  const mods = stagingModules();
  log(`replacing ${mods.length} staging modules with ${stagingVersion}`);
  const lines = mods.map((m) => `\t${m} => ${m} ${stagingVersion}`).join('\n');
  writeFileSync(
    path.join(dir, 'go.mod'),
    `${readFileSync(path.join(dir, 'go.mod'), 'utf8')}\nrequire k8s.io/kubernetes ${KUBERNETES_VERSION}\n\nreplace (\n${lines}\n)\n`,
  );
  const pkgs = commands.map((c) => `k8s.io/kubernetes/cmd/${c}`);
  go(['get', ...pkgs.map((p) => `${p}@${KUBERNETES_VERSION}`)], dir);
  const x = (k, v) => `-X ${k}=${v}`;
  const ldflags = [
    '-s',
    '-w',
    x('k8s.io/component-base/version.gitVersion', KUBERNETES_VERSION),
    x('k8s.io/component-base/version.gitMajor', major),
    x('k8s.io/component-base/version.gitMinor', minor),
    x('k8s.io/component-base/version.gitTreeState', 'clean'),
    x('k8s.io/client-go/pkg/version.gitVersion', KUBERNETES_VERSION),
    x('k8s.io/client-go/pkg/version.gitMajor', major),
    x('k8s.io/client-go/pkg/version.gitMinor', minor),
    x('k8s.io/client-go/pkg/version.gitTreeState', 'clean'),
  ].join(' ');
  go(['build', ...goFlags, '-ldflags', ldflags, '-o', `${bin}/`, ...pkgs], dir);
}

function buildEtcd() {
  const dir = path.join(work, 'etcd');
  freshModule(dir, 'intercept.test/etcd-build');
  // etcd's own main package cannot be installed (replace directives); its entry point can be called.
  writeFileSync(
    path.join(dir, 'main.go'),
    'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n',
  );
  go(['get', `go.etcd.io/etcd/server/v3@${ETCD_VERSION}`], dir);
  go(['mod', 'tidy'], dir);
  go(['build', ...goFlags, '-ldflags', '-s -w', '-o', path.join(bin, 'etcd'), '.'], dir);
}

function buildKwok() {
  const dir = path.join(work, 'kwok');
  freshModule(dir, 'intercept.test/kwok-build');
  const pkgs = ['sigs.k8s.io/kwok/cmd/kwok', 'sigs.k8s.io/kwok/cmd/kwokctl'];
  go(['get', ...pkgs.map((p) => `${p}@${KWOK_VERSION}`)], dir);
  const ldflags = [
    '-s',
    '-w',
    `-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}`,
    `-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION.slice(1)}`,
  ].join(' ');
  go(['build', ...goFlags, '-ldflags', ldflags, '-o', `${bin}/`, ...pkgs], dir);
}

// CoreDNS's own main pulls in every plugin (and the cloud SDKs of route53, azure, clouddns). A main of
// ours with only the plugins the cluster's Corefile uses builds in a fraction of the time; the plugins
// register themselves when imported, and dnsserver.Directives keeps their order.
const corednsPlugins = ['bind', 'errors', 'health', 'kubernetes', 'log', 'ready', 'template'];

function buildCoreDNS() {
  const dir = path.join(work, 'coredns');
  freshModule(dir, 'intercept.test/coredns-build');
  const imports = corednsPlugins.map((p) => `\t_ "github.com/coredns/coredns/plugin/${p}"`).join('\n');
  writeFileSync(
    path.join(dir, 'main.go'),
    `package main\n\nimport (\n\t"github.com/coredns/coredns/coremain"\n\n${imports}\n)\n\nfunc main() { coremain.Run() }\n`,
  );
  go(['get', `github.com/coredns/coredns@${COREDNS_VERSION}`], dir);
  go(['mod', 'tidy'], dir);
  mkdirSync(corednsBinDir(), { recursive: true });
  go(['build', ...goFlags, '-ldflags', '-s -w', '-o', binaryPath('coredns'), '.'], dir);
}

/** Kubernetes 1.36 wants Go 1.26; say so plainly instead of failing deep inside a build. */
function checkGo() {
  const r = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) throw new Error('Go is needed to build the test cluster (go 1.26 or newer on PATH)');
  const [, maj, min] = /^go(\d+)\.(\d+)/.exec(r.stdout.trim()) ?? [];
  if (!maj || Number(maj) * 1000 + Number(min) < 1026) throw new Error(`Go 1.26 or newer is needed, found ${r.stdout.trim()}`);
}

export function ensureBinaries() {
  mkdirSync(bin, { recursive: true });
  mkdirSync(work, { recursive: true });
  const steps = [
    { names: ['etcd'], build: buildEtcd },
    { names: ['kwok', 'kwokctl'], build: buildKwok },
    { names: k8sCommands, build: buildKubernetes },
    { names: ['coredns'], build: buildCoreDNS },
  ];
  const started = Date.now();
  let built = 0;
  for (const step of steps) {
    const due = step.names.filter((n) => !isCurrent(n));
    if (due.length === 0) continue;
    if (built === 0) checkGo();
    const t = Date.now();
    log(`building ${due.join(', ')}`);
    step.build(due);
    const stale = due.filter((n) => !isCurrent(n));
    if (stale.length > 0) throw new Error(`built, but these do not report the expected version: ${stale.join(', ')}`);
    log(`built ${due.join(', ')} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    built += 1;
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  log(built === 0 ? `binaries up to date in ${bin} (checked in ${secs} s)` : `binaries ready in ${bin} after ${secs} s`);
  return bin;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    const dir = ensureBinaries();
    if (process.argv.includes('--print-bin')) console.log(dir);
  } catch (err) {
    console.error(`[cluster:build] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
