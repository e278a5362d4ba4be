// The benchmark's app and developer program: a minimal Node HTTP server that answers "hello" and
// counts uploaded bytes. Prints its port when listening.
import * as http from 'node:http';

const name = process.argv[2] ?? 'app';
const server = http.createServer((req, res) => {
  if (req.method === 'POST') {
    let n = 0;
    req.on('data', (c) => (n += c.length));
    req.on('end', () => res.end(JSON.stringify({ name, bytes: n })));
    return;
  }
  res.end(`hello from ${name}\n`);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => console.log(`port ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
