// Who holds a claim, as teammates see it: the local user and machine (printable ASCII, as the
// protocol allows).
import os from 'node:os';

export function developerName(): string {
  return `${os.userInfo().username}@${os.hostname()}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 128);
}
