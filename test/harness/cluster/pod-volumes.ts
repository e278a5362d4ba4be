// The volumes of one pod on the host, as a kubelet would set them up: configMap and secret volumes
// are written from the API server's objects (volume-files.ts) into <dir>/<volume>, emptyDir volumes
// are empty folders; other kinds are not supported and are left out (a mount of one is not mapped).
// sync() is called again whenever the objects may have changed; a volume is rewritten only when its
// files differ. Each container's volumeMounts then say where it sees them (mounts()).
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { HostMount } from './mount-paths.js';
import { volumeFiles, writeVolumeFiles, type VolumeFiles, type VolumeSources } from './volume-files.js';

export class PodVolumes {
  private readonly written = new Map<string, string>(); // volume name -> fingerprint of its files
  private readonly subPathCopies = new Map<string, string>();
  private removed = false;

  constructor(
    private readonly pod: V1Pod,
    /** Folder of this pod's volumes on the host; removed by remove(). */
    readonly dir: string,
  ) {}

  /** Whether any volume of the pod comes from the API server (and so may change). */
  get fromApiServer(): boolean {
    return (this.pod.spec?.volumes ?? []).some((v) => v.configMap || v.secret);
  }

  /**
   * Writes every volume whose content changed. Returns why volumes could not be set up (a missing
   * ConfigMap or Secret that is not optional); such a volume keeps what it had, as with a kubelet.
   */
  sync(sources: VolumeSources): string[] {
    if (this.removed) return [];
    const problems: string[] = [];
    for (const volume of this.pod.spec?.volumes ?? []) {
      const dir = path.join(this.dir, volume.name);
      if (volume.emptyDir) {
        mkdirSync(dir, { recursive: true });
        continue;
      }
      const result = volumeFiles(volume, sources);
      if (!result) continue;
      if ('error' in result) {
        problems.push(`MountVolume.SetUp failed for volume "${volume.name}": ${result.error}`);
        continue;
      }
      const print = fingerprint(result.files);
      if (this.written.get(volume.name) === print) continue;
      writeVolumeFiles(dir, result.files);
      this.written.set(volume.name, print);
    }
    return problems;
  }

  /**
   * Where the container's mounts are on the host. A subPath mount gets a copy made at the first call
   * (as a kubelet bind-mounts the file when the container starts, later updates do not reach it).
   */
  mounts(container: V1Container): HostMount[] {
    const volumes = new Map((this.pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    const out: HostMount[] = [];
    (container.volumeMounts ?? []).forEach((m, i) => {
      const volume = volumes.get(m.name);
      if (!volume || !(volume.configMap || volume.secret || volume.emptyDir)) return;
      let hostPath = path.join(this.dir, m.name);
      if (m.subPath) {
        const key = `${container.name}/${i}`;
        let copy = this.subPathCopies.get(key);
        if (!copy) {
          copy = path.join(this.dir, '..subpaths', container.name, String(i), path.basename(m.subPath));
          mkdirSync(path.dirname(copy), { recursive: true });
          cpSync(realpathSync(path.join(hostPath, m.subPath)), copy, { recursive: true, dereference: true });
          this.subPathCopies.set(key, copy);
        }
        hostPath = copy;
      }
      out.push({ mountPath: m.mountPath.replace(/\/+$/, '') || '/', hostPath, readOnly: m.readOnly ?? false });
    });
    return out;
  }

  remove(): void {
    this.removed = true;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function fingerprint(files: VolumeFiles): string {
  const h = createHash('sha256');
  for (const [rel, f] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    h.update(`${rel}\0${f.mode}\0${f.content.length}\0`);
    h.update(f.content);
  }
  return h.digest('hex');
}
