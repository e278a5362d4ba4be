// The developer's side for the benchmark: a tunnel client that claims x-intercept-id: ana-4f2c on
// the sidecar's control port and bridges to the local program's port. Prints "ready" when claimed.
import * as net from 'node:net';
import { once } from 'node:events';
import { TunnelClient } from '../src/core/tunnel/tunnel-client';

const [controlPort, localPort] = process.argv.slice(2).map(Number) as [number, number];
const client = new TunnelClient({
  dial: async () => {
    const s = net.connect({ host: '127.0.0.1', port: controlPort });
    await once(s, 'connect');
    return s;
  },
  claim: { header: 'x-intercept-id', value: 'ana-4f2c' },
  developer: 'ana',
  local: { host: '127.0.0.1', port: localPort },
});
client.start().then(
  () => console.log('ready'),
  (err: Error) => {
    console.error(err.message);
    process.exit(1);
  },
);
process.on('SIGTERM', () => void client.close().then(() => process.exit(0)));
