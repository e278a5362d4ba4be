// The benchmark's reference for the runtime's own cost: the least a Node proxy can do, with no
// parsing and no routing. Each client connection gets one app connection and the bytes are passed
// both ways. What the sidecar adds beyond this is its own work; what this adds over the direct path
// is Node's.
//   node bench/node-pipe.mjs <listenPort> <appPort>
import * as net from 'node:net';

const [listenPort, appPort] = process.argv.slice(2).map(Number);
net
  .createServer({ noDelay: true }, (client) => {
    const app = net.connect({ host: '127.0.0.1', port: appPort, noDelay: true });
    client.pipe(app).pipe(client);
    client.on('error', () => app.destroy());
    app.on('error', () => client.destroy());
  })
  .listen(listenPort, '127.0.0.1', () => console.log(`node pipe on port ${listenPort}`));
