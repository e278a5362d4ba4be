// The benchmark's tunnel churn: claims and releases a route on the sidecar's control port over and
// over, as developers starting and stopping intercepts do, with no traffic in between.
//   node --import tsx bench/tunnel-cycles.ts <controlPort> <localPort> <warmUpCycles> <cycles>
// Prints "warm" after the warm-up cycles, waits for a line on stdin, then runs the measured cycles,
// printing "at <n>" every 1,000 and "done <n> <ms>" at the end.
import * as net from 'node:net';
import { once } from 'node:events';
import { TunnelClient } from '../src/core/tunnel/tunnel-client';

const [controlPort, localPort, warmUp, cycles] = process.argv.slice(2).map(Number) as [number, number, number, number];

async function cycle(i: number): Promise<void> {
  const client = new TunnelClient({
    dial: async () => {
      const s = net.connect({ host: '127.0.0.1', port: controlPort });
      await once(s, 'connect');
      return s;
    },
    claim: { header: 'x-intercept-id', value: `churn-${i % 4}` },
    developer: 'churn',
    local: { host: '127.0.0.1', port: localPort },
  });
  await client.start();
  await client.close();
}

async function main(): Promise<void> {
  for (let i = 0; i < warmUp; i++) await cycle(i);
  console.log('warm');
  await once(process.stdin, 'data');
  const t0 = performance.now();
  for (let i = 1; i <= cycles; i++) {
    await cycle(i);
    if (i % 1000 === 0 && i < cycles) console.log(`at ${i}`);
  }
  console.log(`done ${cycles} ${Math.round(performance.now() - t0)}`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.message);
    process.exit(1);
  },
);
