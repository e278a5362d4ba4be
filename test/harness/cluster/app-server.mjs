// The app container of a test pod, run by the pod runner inside the pod's network namespace.
// Environment: POD_NAME, POD_NAMESPACE, CONTAINER_NAME, APP_PORTS (comma-separated), the container's
// own env from the pod spec, APP_READY=no to start not ready, and APP_LINE_ECHO_PORTS (comma-separated,
// among APP_PORTS) for ports that speak a line protocol instead of HTTP.
// It listens on every address of its pod (127.0.0.1 and the pod IP) on each port and answers:
//   POST|PUT /echo    200, the request body streamed back (header x-pod-name);
//   GET /ready        200 "ready", or 503 "not ready" (for a readinessProbe);
//   PUT /ready        body "yes" or "no" sets what GET /ready answers; 204;
//   anything else     200, JSON { pod, namespace, container, port, method, url, headers, bodyBytes,
//                     remoteAddress } (remoteAddress: the client's address as the pod sees it).
// On a line-echo port (raw TCP, no HTTP) each line "<text>\n" is answered "<pod> <text>\n".
// It prints "listening <port>" once per port, and exits shortly after SIGTERM/SIGINT (see below).
import http from 'node:http';
import net from 'node:net';
import readline from 'node:readline';

const pod = process.env.POD_NAME ?? 'unknown';
const namespace = process.env.POD_NAMESPACE ?? '';
const container = process.env.CONTAINER_NAME ?? 'app';
const ports = (process.env.APP_PORTS ?? '8080').split(',').map(Number).filter((p) => p > 0);
const lineEchoPorts = new Set((process.env.APP_LINE_ECHO_PORTS ?? '').split(',').map(Number).filter((p) => p > 0));
let ready = process.env.APP_READY !== 'no';

/** A raw TCP server answering each line with the pod's name and the line. */
function lineEchoServer() {
  return net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    const lines = readline.createInterface({ input: socket, crlfDelay: Infinity });
    lines.on('line', (line) => socket.write(`${pod} ${line}\n`));
    lines.on('close', () => socket.end());
  });
}

/** GET /ready answers readiness; PUT /ready with "yes" or "no" changes it. */
function readiness(req, res) {
  if (req.method === 'PUT') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const value = body.trim();
      if (value !== 'yes' && value !== 'no') {
        res.writeHead(400).end('say yes or no');
        return;
      }
      ready = value === 'yes';
      console.log(`ready: ${value}`);
      res.writeHead(204).end();
    });
    return;
  }
  req.resume();
  res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready' : 'not ready');
}

const servers = ports.map((port) => {
  const server = lineEchoPorts.has(port) ? lineEchoServer() : httpServer(port);
  server.listen(port, '0.0.0.0', () => console.log(`listening ${port}`));
  server.on('error', (err) => {
    console.error(`port ${port}: ${err.message}`);
    process.exit(1);
  });
  return server;
});

function httpServer(port) {
  return http.createServer((req, res) => {
    res.setHeader('x-pod-name', pod);
    if (req.url?.startsWith('/echo') && (req.method === 'POST' || req.method === 'PUT')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    if (req.url === '/ready') {
      readiness(req, res);
      return;
    }
    let bodyBytes = 0;
    req.on('data', (c) => (bodyBytes += c.length));
    req.on('end', () => {
      const remoteAddress = req.socket.remoteAddress;
      const body = JSON.stringify({ pod, namespace, container, port, method: req.method, url: req.url, headers: req.headers, bodyBytes, remoteAddress });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
}

// A well-behaved app (as with a preStop sleep): on SIGTERM it goes on serving for a moment, since the
// Service's endpoints learn of the pod's end a little after the pod does, then it exits.
// APP_SHUTDOWN_DELAY_MS sets the moment (default 2000).
const shutdownDelayMs = Number(process.env.APP_SHUTDOWN_DELAY_MS ?? 2000);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    for (const s of servers) {
      s.close();
      s.closeAllConnections?.();
    }
    process.exit(0);
  }, shutdownDelayMs);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
