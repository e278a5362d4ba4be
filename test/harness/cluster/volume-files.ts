// The files a kubelet writes for a configMap or secret volume, and how it writes them.
//
// volumeFiles(): one file per key (ConfigMap `data` and `binaryData`, Secret `data`), or per `items`
// entry at its `path`; modes from `items[].mode`, else `defaultMode`, else 0644. A missing object or
// key is an error unless the volume is `optional`.
//
// writeVolumeFiles(): the kubelet's layout, so a process that watches a mounted file sees an update
// as one atomic change: the files live in a timestamped folder `..<time>.<random>`, the symlink
// `..data` points at it, and each top-level name is a symlink into `..data`. An update writes a new
// folder, swaps `..data` with one rename, and removes the old folder.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { V1ConfigMap, V1Secret, V1Volume } from '@kubernetes/client-node';

export interface VolumeFile {
  content: Buffer;
  mode: number;
}

/** A volume's files by path relative to the volume's root. */
export type VolumeFiles = Map<string, VolumeFile>;

/** The namespace's ConfigMaps and Secrets, as the runner last read them. */
export interface VolumeSources {
  configMap(name: string): V1ConfigMap | undefined;
  secret(name: string): V1Secret | undefined;
}

const DEFAULT_MODE = 0o644;

/**
 * The files of a configMap or secret volume (undefined for other kinds), or the reason a kubelet
 * could not set the volume up.
 */
export function volumeFiles(volume: V1Volume, sources: VolumeSources): { files: VolumeFiles } | { error: string } | undefined {
  let kind: 'configmap' | 'secret';
  let name: string;
  let optional: boolean;
  let defaultMode: number;
  let items: { key: string; path: string; mode?: number }[] | undefined;
  let entries: Map<string, Buffer> | undefined;
  if (volume.configMap) {
    kind = 'configmap';
    ({ name = '', optional = false, defaultMode = DEFAULT_MODE, items } = volume.configMap);
    const cm = sources.configMap(name);
    if (cm) {
      entries = new Map();
      for (const [k, v] of Object.entries(cm.data ?? {})) entries.set(k, Buffer.from(v, 'utf8'));
      for (const [k, v] of Object.entries(cm.binaryData ?? {})) entries.set(k, Buffer.from(v, 'base64'));
    }
  } else if (volume.secret) {
    kind = 'secret';
    ({ secretName: name = '', optional = false, defaultMode = DEFAULT_MODE, items } = volume.secret);
    const secret = sources.secret(name);
    if (secret) entries = new Map(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  } else {
    return undefined;
  }
  const files: VolumeFiles = new Map();
  if (!entries) return optional ? { files } : { error: `${kind} "${name}" not found` };
  if (!items || items.length === 0) {
    for (const [key, content] of entries) files.set(key, { content, mode: defaultMode });
    return { files };
  }
  for (const item of items) {
    const content = entries.get(item.key);
    if (!content) {
      if (optional) continue;
      return { error: `${kind} "${name}" references non-existent ${kind === 'secret' ? 'secret' : 'config'} key: ${item.key}` };
    }
    files.set(item.path, { content, mode: item.mode ?? defaultMode });
  }
  return { files };
}

const DATA = '..data';

/** Writes `files` into `dir` in the kubelet's layout, replacing what a previous call wrote there. */
export function writeVolumeFiles(dir: string, files: VolumeFiles): void {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '');
  const fresh = mkdtempSync(path.join(dir, `..${stamp}.`));
  for (const [rel, file] of files) {
    const target = path.join(fresh, rel);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content);
    chmodSync(target, file.mode & 0o777);
  }
  chmodSync(fresh, 0o755);
  const previous = existsSync(path.join(dir, DATA)) ? readlinkSync(path.join(dir, DATA)) : undefined;
  const tmpLink = path.join(dir, `${DATA}_tmp`);
  rmSync(tmpLink, { force: true });
  symlinkSync(path.basename(fresh), tmpLink);
  renameSync(tmpLink, path.join(dir, DATA));

  const topLevel = new Set([...files.keys()].map((rel) => rel.split('/')[0]!));
  for (const name of topLevel) {
    const link = path.join(dir, name);
    if (!existsSync(link) && !isSymlink(link)) symlinkSync(path.join(DATA, name), link);
  }
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('..') && !topLevel.has(name)) unlinkSync(path.join(dir, name));
  }
  if (previous && previous !== path.basename(fresh)) rmSync(path.join(dir, previous), { recursive: true, force: true });
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
