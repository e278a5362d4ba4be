// The one-file sidecar build the injection puts into a ConfigMap, with its version and hash: the
// hash names the ConfigMap, so two builds of one version never overwrite each other under running pods.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface SidecarBuild {
  readonly code: string;
  readonly version: string;
  readonly sha256: string;
}

/** ConfigMaps hold at most 1 MiB in all. */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

export async function loadSidecarBuild(file: string, version: string): Promise<SidecarBuild> {
  const code = await readFile(file, 'utf8');
  if (Buffer.byteLength(code) > CONFIGMAP_MAX_BYTES - 4096) {
    throw new Error(`the sidecar build ${file} is ${Buffer.byteLength(code)} bytes, more than a ConfigMap holds`);
  }
  return { code, version, sha256: createHash('sha256').update(code).digest('hex') };
}
