// A folder that changes as kubelet changes a mounted ConfigMap: the files of one version live in a
// timestamped folder, `..data` links to the current one, and each key is a link `key -> ..data/key`.
// A new version is written beside the old one and `..data` is relinked by a rename, so a reader sees
// the old set or the new one, never a mix.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leaseSha256, type AnnouncedClaim } from '../../src/protocol/announced-claim';

export class ConfigMapFolder {
  private version = 0;
  private current: string | null = null;
  private keys = new Set<string>();

  private constructor(readonly dir: string) {}

  static async create(): Promise<ConfigMapFolder> {
    return new ConfigMapFolder(await fs.mkdtemp(path.join(os.tmpdir(), 'intercept-claims-')));
  }

  /** Replaces every key at once with `files` (key → content). */
  async write(files: Readonly<Record<string, string>>): Promise<void> {
    const version = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${++this.version}`;
    await fs.mkdir(path.join(this.dir, version));
    for (const [key, content] of Object.entries(files)) await fs.writeFile(path.join(this.dir, version, key), content);
    await fs.symlink(version, path.join(this.dir, '..data_tmp'));
    await fs.rename(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    const keys = new Set(Object.keys(files));
    for (const key of keys) if (!this.keys.has(key)) await fs.symlink(path.join('..data', key), path.join(this.dir, key));
    for (const key of this.keys) if (!keys.has(key)) await fs.unlink(path.join(this.dir, key));
    if (this.current !== null) await fs.rm(path.join(this.dir, this.current), { recursive: true });
    this.current = version;
    this.keys = keys;
  }

  async remove(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** The JSON of an announced claim on the `x-intercept-id` header, for the holder of `lease`. */
export function announcedClaim(port: number, value: string, developer: string, lease: string, expiresAt: Date): string {
  const entry: AnnouncedClaim = {
    v: 1,
    port,
    header: 'x-intercept-id',
    value,
    developer,
    leaseSha256: leaseSha256(lease),
    expiresAt: expiresAt.toISOString(),
  };
  return JSON.stringify(entry);
}
