// Node v20 echo server for nodenet-bench: the reference the Rust servers are compared with.
// Usage: node echo_server.js PORT   (PORT 0 picks a free port)
// Prints "ready <port>" on stdout once listening on 127.0.0.1; the harness waits for it.
'use strict';
const net = require('net');

const port = Number(process.argv[2] ?? 0);
const server = net.createServer((s) => {
  // A benchmark client may reset a connection at the end of a run; without a listener
  // Node would treat that 'error' as an uncaught exception and exit.
  s.on('error', () => {});
  s.pipe(s);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
