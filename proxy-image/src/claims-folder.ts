// Reads the folder of announced claims (a ConfigMap mounted into the sidecar, one JSON file per
// claim) at start and then every second, and hands the registry what it holds now. The work is
// bounded whatever the folder holds: at most ANNOUNCED_CLAIMS_MAX_FILES files, each read up to
// ANNOUNCED_CLAIM_MAX_BYTES. Each problem is logged once (per file and content), naming the file and
// the field at fault, never the content.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import {
  ANNOUNCED_CLAIM_MAX_BYTES,
  ANNOUNCED_CLAIMS_MAX_FILES,
  ANNOUNCED_CLAIMS_POLL_MS,
  parseAnnouncedClaim,
} from '../../src/protocol/announced-claim';
import { sha256Hex } from '../../src/protocol/sha256';
import type { Announcement } from './claims';
import type { LogFields, Logger } from './log';

export interface AnnouncementSink {
  announce(entries: readonly Announcement[]): void;
}

type FileRead =
  | { kind: 'text'; text: string }
  | { kind: 'gone' }
  | { kind: 'problem'; signature: string; reason: string };

export class ClaimsFolder {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Problems already logged; kept only while they persist, so a problem that comes back is told again. */
  private warned = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly ports: readonly number[],
    private readonly sink: AnnouncementSink,
    private readonly log: Logger,
    private readonly intervalMs = ANNOUNCED_CLAIMS_POLL_MS,
  ) {}

  /** Reads the folder once, then again every interval until closed. */
  async start(): Promise<void> {
    await this.scan();
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.scan().then(
        () => this.schedule(),
        (err: Error) => {
          this.log.error('reading the claims folder failed', { error: err.message });
          this.schedule();
        },
      );
    }, this.intervalMs);
    this.timer.unref();
  }

  private async scan(): Promise<void> {
    const problems = new Set<string>();
    const warn = (signature: string, msg: string, fields: LogFields): void => {
      problems.add(signature);
      if (!this.warned.has(signature)) this.log.warn(msg, fields);
    };
    let names: string[];
    try {
      // kubelet's own entries (the ..data link, timestamped folders) start with "..".
      names = (await fs.readdir(this.dir)).filter((n) => !n.startsWith('..')).sort();
    } catch (err) {
      // Announcements stay as they were (their expiry still ends them): a folder that cannot be read
      // for a moment must not let claimed requests through to the app.
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      warn(`folder\0${code}`, 'the claims folder cannot be read; announced claims stay as they were until they expire', { dir: this.dir, error: code });
      this.warned = problems;
      return;
    }
    if (names.length > ANNOUNCED_CLAIMS_MAX_FILES) {
      warn('too-many-files', 'the claims folder holds more files than are read; the rest are ignored', { files: names.length, read: ANNOUNCED_CLAIMS_MAX_FILES });
      names = names.slice(0, ANNOUNCED_CLAIMS_MAX_FILES);
    }
    const entries: Announcement[] = [];
    for (const name of names) {
      const read = await readBounded(path.join(this.dir, name));
      if (read.kind === 'gone') continue; // swapped away since the listing
      if (read.kind === 'problem') {
        warn(`${name}\0${read.signature}`, 'ignoring a file of the claims folder', { file: name, reason: read.reason });
        continue;
      }
      const parsed = parseAnnouncedClaim(read.text);
      const refusal = parsed.ok ? (this.ports.includes(parsed.claim.port) ? undefined : `port ${parsed.claim.port} is not served by this sidecar`) : parsed.reason;
      if (!parsed.ok || refusal !== undefined) {
        // A refused file is told once per content: hashed only then, not on every read of good files.
        const content = sha256Hex(read.text);
        warn(`${name}\0${content}`, 'ignoring a file of the claims folder', { file: name, reason: refusal });
        continue;
      }
      const c = parsed.claim;
      entries.push({ port: c.port, header: c.header, value: c.value, developer: c.developer, leaseSha256: c.leaseSha256, expiresAt: parsed.expiresAtMs });
    }
    this.warned = problems;
    if (!this.closed) this.sink.announce(entries);
  }
}

/**
 * Reads a regular file of at most ANNOUNCED_CLAIM_MAX_BYTES, never more than that of it. Opened
 * without blocking, so that a named pipe cannot hold the read.
 */
async function readBounded(file: string): Promise<FileRead> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'gone' } : cannotRead(err);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { kind: 'problem', signature: 'not-a-file', reason: 'not a regular file' };
    // Its content is not read, so its size stands for it: the same file rewritten by kubelet is not told again.
    const tooLarge = (size: number): FileRead => ({ kind: 'problem', signature: `size ${size}`, reason: `larger than ${ANNOUNCED_CLAIM_MAX_BYTES} bytes` });
    if (stat.size > ANNOUNCED_CLAIM_MAX_BYTES) return tooLarge(stat.size);
    // One byte more than allowed tells a file that grew since the stat.
    const buf = Buffer.alloc(ANNOUNCED_CLAIM_MAX_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buf.length) return tooLarge(length);
    }
    return { kind: 'text', text: buf.toString('utf8', 0, length) };
  } catch (err) {
    return cannotRead(err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function cannotRead(err: unknown): FileRead {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return { kind: 'problem', signature: code, reason: `cannot be read (${code})` };
}
