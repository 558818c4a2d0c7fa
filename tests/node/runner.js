#!/usr/bin/env node
// nodenet differential runner: executes one conformance scenario (tests/scenarios/*.json)
// against Node's real `net` module on loopback and prints the per-actor event traces as
// JSON on stdout: {"traces": {"<actor>": ["<entry>", ...], ...}}.
//
// Plain Node (v20+), no npm dependencies. The execution model is the one documented in
// tests/src/scenario.rs and tests/src/script.rs (the Rust side implements the same model for every backend); keep
// the two in step. Usage: node tests/node/runner.js <scenario.json | ->
'use strict';

const net = require('net');
const fs = require('fs');
const os = require('os');
const path = require('path');

// The whole run is bounded: a hung scenario must fail the suite, not hang it.
const HARD_LIMIT_MS = 10000;
const DEFAULT_WAIT_MS = 2000;
const DEFAULT_SETTLE_MS = 50;

const scenarioPath = process.argv[2];
if (!scenarioPath) {
  process.stderr.write('usage: runner.js <scenario.json>\n');
  process.exit(64);
}
// '-' reads the scenario from stdin (the Rust NodeDriver pipes its parsed model back).
const scenario = JSON.parse(fs.readFileSync(scenarioPath === '-' ? 0 : scenarioPath, 'utf8'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenet-conf-'));

const hardLimit = setTimeout(() => {
  process.stderr.write(`runner: ${scenario.name}: hard time limit of ${HARD_LIMIT_MS} ms hit\n`);
  cleanupFiles();
  process.exit(2);
}, HARD_LIMIT_MS);
hardLimit.unref();

const traces = {};
const sockets = {}; // actor name -> net.Socket (clients and accepted conns)
const servers = {}; // actor name -> { server, port, path }
const quietData = new Set(scenario.quiet_data || []);
const countData = new Set(scenario.count_data || []);
const errorMessages = new Set(scenario.error_messages || []);
const controllers = {}; // actor name -> AbortController of its live `signal`
const rules = (scenario.on || []).map((r) => ({ ...r, fired: false }));
const waiters = [];
const waitCounts = new Map();
let connCount = 0;
let frozen = false;

function cleanupFiles() {
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

// ---- trace recording -------------------------------------------------------------------

function normalise(text) {
  return String(text).split(tmp).join('<tmp>');
}

function matches(entry, event) {
  return entry === event || entry.startsWith(event + ':');
}

function record(actor, entry) {
  if (frozen) return;
  entry = normalise(entry);
  const trace = traces[actor] || (traces[actor] = []);
  const last = trace[trace.length - 1];
  // Consecutive data events are merged: chunking differs between runtimes.
  if (entry.startsWith('data#') && last !== undefined && last.startsWith('data#')) {
    trace[trace.length - 1] = `data#${Number(last.slice(5)) + Number(entry.slice(5))}`;
  } else if (entry.startsWith('data') && last !== undefined && last.startsWith('data') &&
      (last === 'data' || last.startsWith('data:'))) {
    if (!quietData.has(actor)) trace[trace.length - 1] = last + entry.slice('data:'.length);
  } else if (entry.startsWith('read:') && last !== undefined && last.startsWith('read:')) {
    // `onread` reads merge like data: their sizes are the kernel's business.
    trace[trace.length - 1] = last + entry.slice('read:'.length);
  } else {
    trace.push(entry);
  }
  // Reactive rules run synchronously inside the event handler, like user code in Node.
  for (const rule of rules) {
    if (!rule.fired && rule.actor === actor && matches(entry, rule.event)) {
      rule.fired = true;
      for (const step of rule.do) act(step, rule.actor);
    }
  }
  for (const w of waiters.slice()) w.check();
}

function dataEntry(actor, chunk) {
  if (countData.has(actor)) return `data#${chunk.toString('utf8').length}`;
  return quietData.has(actor) ? 'data' : 'data:' + chunk.toString('utf8');
}

function errCode(err) {
  if (!err) return 'undefined';
  return err.code || err.name || 'Error';
}

// `error:<CODE>`, or for the scenario's `error_messages` actors `error:<CODE>:<String(err)>`
// with the servers' ports written `<port>`.
function errorEntry(actor, err) {
  if (!errorMessages.has(actor)) return `error:${errCode(err)}`;
  const ports = new Set(Object.values(servers).map((s) => s.port).filter((p) => p !== undefined));
  const text = String(err).replace(/:(\d+)/g, (m, p) => (ports.has(Number(p)) ? ':<port>' : m));
  return `error:${errCode(err)}:${text}`;
}

// The `signal` option: a live controller's signal (aborted by the `abort` step) or an
// already aborted one.
function signalFor(actor, spec) {
  if (spec === 'aborted') return AbortSignal.abort();
  const controller = controllers[actor] || (controllers[actor] = new AbortController());
  return controller.signal;
}
function instrumentSocket(actor, sock) {
  sockets[actor] = sock;
  sock.on('lookup', (err, ip) => record(actor, err ? `lookup:error:${errCode(err)}` : `lookup:${ip}`));
  sock.on('connectionAttempt', (ip) => record(actor, `connectionAttempt:${ip}`));
  sock.on('connectionAttemptFailed', (ip, port, family, err) =>
    record(actor, `connectionAttemptFailed:${ip}:${errCode(err)}`));
  sock.on('connectionAttemptTimeout', (ip) => record(actor, `connectionAttemptTimeout:${ip}`));
  sock.on('connect', () => record(actor, 'connect'));
  sock.on('ready', () => record(actor, 'ready'));
  sock.on('data', (chunk) => record(actor, dataEntry(actor, chunk)));
  sock.on('end', () => record(actor, 'end'));
  sock.on('drain', () => record(actor, 'drain'));
  sock.on('timeout', () => record(actor, 'timeout'));
  sock.on('finish', () => record(actor, 'finish'));
  sock.on('error', (err) => record(actor, errorEntry(actor, err)));
  sock.on('close', (...args) => record(actor, args.length === 0 ? 'close' : `close:${args[0]}`));
}

function instrumentServer(actor, server) {
  server.on('listening', () => {
    const addr = server.address();
    if (addr && typeof addr === 'object') servers[actor].port = addr.port;
    record(actor, 'listening');
  });
  server.on('connection', (sock) => {
    connCount += 1;
    const name = connCount === 1 ? 'conn' : `conn${connCount}`;
    instrumentSocket(name, sock);
    record(actor, 'connection');
  });
  server.on('drop', () => record(actor, 'drop'));
  server.on('error', (err) => record(actor, errorEntry(actor, err)));
  server.on('close', () => record(actor, 'close'));
}

// ---- options ---------------------------------------------------------------------------

function blockList(rulesSpec) {
  if (!rulesSpec) return undefined;
  const list = new net.BlockList();
  for (const r of rulesSpec) {
    const family = r.family || 'ipv4';
    if (r.subnet !== undefined) list.addSubnet(r.subnet, r.prefix, family);
    else list.addAddress(r.address, family);
  }
  return list;
}

function serverOptions(spec) {
  const o = { ...(spec.options || {}) };
  if (o.blockList) o.blockList = blockList(o.blockList);
  return o;
}

function portOf(name) {
  const s = servers[name];
  if (!s || s.port === undefined) throw new Error(`scenario: no known port for ${name}`);
  return s.port;
}

function listenOptions(actor, spec, port) {
  const l = { ...(spec.listen || {}) };
  // The step's own `port` replaces the spec's port for this call.
  if (port !== undefined) {
    l.port = port;
    delete l.port_of;
  }
  const signal = l.signal !== undefined ? { signal: signalFor(actor, l.signal) } : {};
  if (l.path !== undefined) return { path: path.join(tmp, l.path), ...signal };
  // A literal `port` (an invalid one, to see the validation) wins over `port_of`.
  const o = { port: l.port !== undefined ? l.port : l.port_of ? portOf(l.port_of) : 0, ...signal };
  if (l.host !== undefined) o.host = l.host;
  if (l.ipv6Only !== undefined) o.ipv6Only = l.ipv6Only;
  if (l.backlog !== undefined) o.backlog = l.backlog;
  return o;
}

function connectOptions(spec) {
  const c = { ...(spec.connect || {}) };
  const o = {};
  for (const k of ['allowHalfOpen', 'family', 'autoSelectFamily', 'autoSelectFamilyAttemptTimeout',
    'noDelay', 'keepAlive', 'keepAliveInitialDelay', 'timeout', 'localAddress']) {
    if (c[k] !== undefined) o[k] = c[k];
  }
  if (c.blockList) o.blockList = blockList(c.blockList);
  // `connect({})`: no target at all, to see Node's argument check.
  if (c.noTarget) return o;
  if (c.localPort_of !== undefined) o.localPort = portOf(c.localPort_of);
  if (c.path !== undefined) {
    o.path = path.join(tmp, c.path);
    return o;
  }
  o.port = c.port !== undefined ? c.port : portOf(c.port_of || 'server');
  o.host = c.host !== undefined ? c.host : '127.0.0.1';
  if (c.lookupError) {
    // Node's test mock `errorLookupMock(code)`, answering asynchronously.
    o.lookup = (host, opts, cb) => {
      setImmediate(() => {
        const err = new Error(`getaddrinfo ${c.lookupError} ${host}`);
        err.code = c.lookupError;
        err.errno = c.lookupError;
        err.syscall = 'getaddrinfo';
        err.hostname = host;
        cb(err);
      });
    };
  }
  if (c.lookup) {
    const results = c.lookup;
    // A custom resolver answering asynchronously, like dns.lookup does.
    o.lookup = (host, opts, cb) => {
      setImmediate(() => {
        if (opts.all) cb(null, results.map((r) => ({ address: r.address, family: r.family })));
        else cb(null, results[0].address, results[0].family);
      });
    };
  }
  return o;
}

// ---- properties ------------------------------------------------------------------------

function render(v) {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return normalise(v);
  return normalise(JSON.stringify(v));
}

function socketProperty(sock, prop) {
  switch (prop) {
    case 'autoSelectFamilyAttemptedAddresses': {
      const a = sock.autoSelectFamilyAttemptedAddresses;
      // "ip:port" with a dynamic port: keep only the ip.
      return a === undefined ? undefined : a.map((s) => s.slice(0, s.lastIndexOf(':')));
    }
    default:
      return sock[prop];
  }
}

function serverProperty(name, prop) {
  const s = servers[name];
  switch (prop) {
    case 'listening':
      return s.server.listening;
    case 'addressFamily': {
      const a = s.server.address();
      return a && typeof a === 'object' ? a.family : a === null ? null : 'pipe';
    }
    case 'address': {
      const a = s.server.address();
      return a && typeof a === 'object' ? a.address : a;
    }
    case 'connections':
      return s.server._connections;
    case 'maxConnections':
      return s.server.maxConnections;
    case 'port': {
      const a = s.server.address();
      return a && typeof a === 'object' ? a.port : undefined;
    }
    case 'pathExists':
      return s.path !== undefined && fs.existsSync(s.path);
    default:
      throw new Error(`scenario: unknown server property ${prop}`);
  }
}

// ---- actions ---------------------------------------------------------------------------

function writeUntilBlocked(actor, sock, step) {
  // `data` (a string, converted by every write as Node does) or `chunk_size` bytes of x.
  const chunk = step.data !== undefined ? step.data.repeat(step.repeat || 1)
    : Buffer.alloc(step.chunk_size || 65536, 'x');
  const max = step.max_chunks || 4096;
  for (let i = 0; i < max; i++) {
    if (!sock.write(chunk, step.encoding)) {
      record(actor, 'blocked');
      return;
    }
  }
  record(actor, 'neverBlocked');
}

function act(step, defaultActor) {
  const actor = step.actor || defaultActor;
  try {
    actOn(actor, step);
  } catch (err) {
    record(actor, `throw:${errCode(err)}`);
  }
}

function actOn(actor, step) {
  switch (step.op) {
    case 'mark':
      record(actor, `mark:${step.label}`);
      return;
    case 'listen': {
      const spec = scenario.servers[actor];
      let s = servers[actor];
      if (!s) {
        s = servers[actor] = { server: net.createServer(serverOptions(spec)) };
        instrumentServer(actor, s.server);
      }
      const opts = listenOptions(actor, spec, step.port);
      if (opts.path !== undefined) s.path = opts.path;
      s.server.listen(opts);
      return;
    }
    case 'close':
      servers[actor].server.close();
      return;
    case 'abort':
      controllers[actor].abort();
      return;
    case 'set_max_connections':
      servers[actor].server.maxConnections = step.value;
      return;
    case 'create':
      createSocket(actor);
      return;
    case 'connect': {
      // A client created before (by `create` or an earlier `connect`) connects again:
      // `socket.connect(options)` on the same object.
      const sock = sockets[actor] || createSocket(actor);
      sock.connect(connectOptions(scenario.clients[actor]));
      return;
    }
    case 'assert': {
      if (step.rust_only) return; // read back with getsockopt by the Rust drivers only
      const value = property(actor, step.property);
      if (step.same_as) {
        // Compared with another actor's property (e.g. bytes read vs bytes written), for
        // values that are deterministic only relative to each other.
        const other = property(step.same_as.actor, step.same_as.property);
        const rhs = `${step.same_as.actor}.${step.same_as.property}`;
        record(actor, value === other ? `${step.property}=${rhs}`
          : `${step.property}=${render(value)}!=${rhs}=${render(other)}`);
      } else {
        record(actor, `${step.property}=${render(value)}`);
      }
      return;
    }
    default:
      break;
  }
  const sock = need(actor);
  switch (step.op) {
    case 'write': {
      const data = step.repeat !== undefined ? step.data.repeat(step.repeat) : step.data;
      if (step.cb !== undefined) {
        const ret = sock.write(data, step.encoding, labelledCallback(actor, step.cb));
        record(actor, `write:${step.cb}=${ret}`);
      } else {
        sock.write(data, step.encoding);
      }
      return;
    }
    case 'end': {
      const args = step.data !== undefined ? [step.data] : [];
      if (step.cb !== undefined) args.push(labelledCallback(actor, step.cb));
      sock.end(...args);
      return;
    }
    case 'set_encoding':
      sock.setEncoding(step.encoding);
      return;
    case 'destroy':
      sock.destroy();
      return;
    case 'destroy_with_error': {
      const err = new Error('destroyed by the scenario');
      err.code = step.code;
      sock.destroy(err);
      return;
    }
    case 'destroy_soon':
      sock.destroySoon();
      return;
    case 'reset_and_destroy':
      sock.resetAndDestroy();
      return;
    case 'pause':
      sock.pause();
      return;
    case 'resume':
      sock.resume();
      return;
    case 'set_timeout':
      sock.setTimeout(step.ms);
      return;
    case 'set_no_delay':
      sock.setNoDelay(step.enable === undefined ? true : step.enable);
      return;
    case 'set_keep_alive':
      sock.setKeepAlive(step.enable === undefined ? true : step.enable, step.initial_delay_ms || 0);
      return;
    case 'write_until_blocked':
      writeUntilBlocked(actor, sock, step);
      return;
    default:
      throw new Error(`scenario: unknown op ${step.op}`);
  }
}

// `new net.Socket(options)` for a client, instrumented, with the `timeout` option applied.
function createSocket(actor) {
  const c = scenario.clients[actor].connect || {};
  const opts = {};
  for (const k of ['allowHalfOpen', 'noDelay', 'keepAlive', 'keepAliveInitialDelay',
    'highWaterMark']) {
    if (c[k] !== undefined) opts[k] = c[k];
  }
  if (c.signal !== undefined) opts.signal = signalFor(actor, c.signal);
  if (c.onread !== undefined) opts.onread = onread(actor, c.onread);
  const sock = new net.Socket(opts);
  instrumentSocket(actor, sock);
  if (c.timeout) sock.setTimeout(c.timeout);
  return sock;
}

// The `onread` option: one static buffer, or (`pool`) a function handing out `pool`
// buffers in turn; each read is recorded as `read:<text>`.
function onread(actor, spec) {
  const callback = (nread, buf) => {
    record(actor, 'read:' + Buffer.from(buf.buffer, buf.byteOffset, nread).toString('utf8'));
  };
  if (spec.pool === undefined) return { buffer: Buffer.alloc(spec.buffer), callback };
  const pool = Array.from({ length: spec.pool }, () => Buffer.alloc(spec.buffer));
  let next = 0;
  return { buffer: () => pool[next++ % pool.length], callback };
}

// A callback labelled `label`: records `cb:<label>:ok` or `cb:<label>:<CODE>`.
function labelledCallback(actor, label) {
  return (err) => record(actor, `cb:${label}:${err ? errCode(err) : 'ok'}`);
}

function property(actor, prop) {
  return servers[actor] ? serverProperty(actor, prop) : socketProperty(need(actor), prop);
}

function need(actor) {
  const sock = sockets[actor];
  if (!sock) throw new Error(`scenario: actor ${actor} does not exist (yet)`);
  return sock;
}

// ---- steps -----------------------------------------------------------------------------

function satisfied(actor, event, needed) {
  const trace = traces[actor] || [];
  let n = 0;
  for (const e of trace) if (matches(e, event)) n += 1;
  return n >= needed;
}

// The n-th `wait` on the same (actor, event) waits for the n-th matching entry.
function wait(step) {
  const key = `${step.actor}\u0000${step.event}`;
  const needed = (waitCounts.get(key) || 0) + 1;
  waitCounts.set(key, needed);
  if (satisfied(step.actor, step.event, needed)) return null;
  return new Promise((resolve) => {
    const w = {
      check() {
        if (satisfied(step.actor, step.event, needed)) {
          clearTimeout(w.timer);
          waiters.splice(waiters.indexOf(w), 1);
          resolve(true);
        }
      },
    };
    w.timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(w), 1);
      resolve(false);
    }, step.timeout_ms || DEFAULT_WAIT_MS);
    waiters.push(w);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  for (const step of scenario.steps) {
    if (step.op === 'wait') {
      const pending = wait(step);
      // Only yield when the event has not been seen yet, so a run of actions after a
      // satisfied wait stays in the same tick.
      if (pending !== null && !(await pending)) {
        record('runner', `timeout:${step.actor}:${step.event}`);
        break;
      }
    } else if (step.op === 'sleep') {
      await sleep(step.ms);
    } else {
      act(step);
    }
  }
  await sleep(scenario.settle_ms === undefined ? DEFAULT_SETTLE_MS : scenario.settle_ms);
  frozen = true;
  process.stdout.write(JSON.stringify({ traces }) + '\n');
  for (const s of Object.values(sockets)) s.destroy();
  for (const s of Object.values(servers)) s.server.close();
  cleanupFiles();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`runner: ${err && err.stack}\n`);
  cleanupFiles();
  process.exit(1);
});
