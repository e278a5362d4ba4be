// The extension's own log file ("Intercept" output channel) in an editor run's data folder, newest
// window session first: what the extension said, whatever the Output panel happens to show.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export function extensionLog(userDataDir: string, extensionId = 'intercept-dev.intercept', channel = 'Intercept'): string {
  const logs = path.join(userDataDir, 'logs');
  if (!existsSync(logs)) return '';
  for (const session of readdirSync(logs).sort().reverse()) {
    for (const host of readdirSync(path.join(logs, session)).filter((d) => d.startsWith('exthost')).sort().reverse()) {
      const file = path.join(logs, session, host, extensionId, `${channel}.log`);
      if (existsSync(file)) return readFileSync(file, 'utf8');
    }
  }
  return '';
}
