// AutobahnJS clients against a WAMP router, one serializer per run.
//
// Usage: node interop.js URL REALM json|msgpack
//
// Prints "PASS <name>" per check and "DONE <count>" at the end; any failure
// prints "FAIL <name>: <reason>" and exits with status 1. The router must
// check URIs strictly (see the invalid_uri check).
//
// The `ws` package offers permessage-deflate on every connection. With
// WAMP_TEST_DEFLATE=1 one more check, run last, requires that each
// connection uses it (the router must then have compression on).
'use strict';

// Node 20 has no global WebSocket; AutobahnJS uses the global one. Each
// one made is kept for the permessage-deflate check.
const NodeWebSocket = require('ws');
const opened = [];
globalThis.WebSocket = class extends NodeWebSocket {
  constructor(...args) {
    super(...args);
    opened.push(this);
  }
};
const DEFLATE = process.env.WAMP_TEST_DEFLATE === '1';
const autobahn = require('autobahn');

const [url, realm, serializerName] = process.argv.slice(2);
const TIMEOUT_MS = 20000;

// AutobahnJS's JSON serializer leaves binary values to the application: it
// takes a replacer and reviver, and these implement WAMP's convention (a
// string of NUL followed by base64), as an application sending bytes would.
function binaryReplacer(key, value) {
  const original = this[key];
  if (original instanceof Uint8Array) return '\u0000' + Buffer.from(original).toString('base64');
  return value;
}

function binaryReviver(key, value) {
  if (typeof value === 'string' && value.charCodeAt(0) === 0) {
    return new Uint8Array(Buffer.from(value.slice(1), 'base64'));
  }
  return value;
}

function connect() {
  const serializer = serializerName === 'json'
    ? new autobahn.serializer.JSONSerializer(binaryReplacer, binaryReviver)
    : new autobahn.serializer.MsgpackSerializer();
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      realm,
      transports: [{ type: 'websocket', url, serializers: [serializer] }],
      max_retries: 0,
    });
    connection.onopen = (session, details) => resolve({ connection, session, details });
    connection.onclose = (reason, details) => {
      reject(new Error(`connection closed: ${reason} ${JSON.stringify(details)}`));
      return true; // no reconnect
    };
    connection.open();
  });
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

function deepEqual(a, b) {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(v) {
  if (v instanceof Uint8Array) return { bytes: Array.from(v) };
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalize(v[k])]));
  }
  return v;
}

async function expectError(promise, uri) {
  try {
    await promise;
  } catch (e) {
    expect(e.error === uri, `expected ${uri}, got ${e.error || e}`);
    return e;
  }
  throw new Error(`expected ${uri}, got success`);
}

class Inbox {
  constructor() { this.items = []; this.waiters = []; }
  handler() {
    return (args, kwargs) => {
      this.items.push({ args: args || [], kwargs: kwargs || {} });
      this.waiters.forEach((w) => w());
    };
  }
  waitFor(count) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${this.items.length} of ${count} events`)), TIMEOUT_MS);
      const check = () => {
        if (this.items.length >= count) { clearTimeout(timer); resolve(this.items); }
      };
      this.waiters.push(check);
      check();
    });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const checks = [];
  const check = (name, fn) => checks.push([name, fn]);

  const a = await connect();
  const b = await connect();
  const A = a.session, B = b.session;

  check('join', async () => {
    expect(a.details.realm === realm, `realm ${a.details.realm}`);
    expect(A.id >= 1 && A.id <= 2 ** 53, `session id ${A.id}`);
    expect(a.details.authrole === 'anonymous', `authrole ${a.details.authrole}`);
    expect(A.id !== B.id, 'two sessions share an id');
  });

  await A.register('com.test.add2', (args, kwargs) => (args[0] + args[1]) * ((kwargs && kwargs.scale) || 1));
  await A.register('com.test.echo', (args, kwargs) => new autobahn.Result(args || [], kwargs || {}));
  await A.register('com.test.fail', (args, kwargs) => {
    throw new autobahn.Error('com.test.custom_error', args, kwargs);
  });

  check('call with args and kwargs', async () => {
    expect(await B.call('com.test.add2', [2, 3]) === 5, 'add2(2, 3)');
    expect(await B.call('com.test.add2', [2, 3], { scale: 10 }) === 50, 'add2(2, 3, scale=10)');
    const r = await B.call('com.test.echo', [1, 'two', [3]], { three: { x: null }, four: 4.5 });
    expect(deepEqual(r.args, [1, 'two', [3]]), `echo args ${JSON.stringify(r.args)}`);
    expect(deepEqual(r.kwargs, { three: { x: null }, four: 4.5 }), `echo kwargs ${JSON.stringify(r.kwargs)}`);
  });

  check('unicode payload', async () => {
    const text = 'Grüße, 世界! 🚀 \u2028 "quoted" \\ back';
    const r = await B.call('com.test.echo', [text], { 'ключ': text });
    expect(r.args[0] === text && r.kwargs['ключ'] === text, `got ${JSON.stringify(r)}`);
  });

  check('binary payload', async () => {
    const data = new Uint8Array(258);
    for (let i = 0; i < 256; i++) data[i] = i;
    const r = await B.call('com.test.echo', [data]);
    expect(r instanceof Uint8Array || Buffer.isBuffer(r), `got ${typeof r}`);
    expect(deepEqual(new Uint8Array(r), data), 'bytes differ');
  });

  check('1 MiB payload', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const r = await B.call('com.test.echo', [big]);
    expect(r === big, `got ${r.length} characters`);
  });

  check('application error with custom uri, args and kwargs', async () => {
    const e = await expectError(B.call('com.test.fail', [1, 'two'], { reason: 'because' }), 'com.test.custom_error');
    expect(deepEqual(e.args, [1, 'two']), `error args ${JSON.stringify(e.args)}`);
    expect(deepEqual(e.kwargs, { reason: 'because' }), `error kwargs ${JSON.stringify(e.kwargs)}`);
  });

  check('no_such_procedure', async () => {
    await expectError(B.call('com.test.nothing'), 'wamp.error.no_such_procedure');
  });

  check('procedure_already_exists', async () => {
    await expectError(B.register('com.test.add2', () => 0), 'wamp.error.procedure_already_exists');
  });

  check('invalid_uri', async () => {
    await expectError(B.call('com.test.NotStrict'), 'wamp.error.invalid_uri');
    await expectError(B.register('com.test.Not-Strict', () => 0), 'wamp.error.invalid_uri');
  });

  check('subscribe and publish with acknowledge', async () => {
    const inbox = new Inbox();
    await A.subscribe('com.test.topic', inbox.handler());
    const pub = await B.publish('com.test.topic', ['hello', 42], { who: 'b' }, { acknowledge: true });
    expect(pub.id >= 1 && pub.id <= 2 ** 53, `publication id ${pub.id}`);
    const items = await inbox.waitFor(1);
    expect(deepEqual(items[0], { args: ['hello', 42], kwargs: { who: 'b' } }), `event ${JSON.stringify(items[0])}`);
  });

  check('exclude_me both ways', async () => {
    const inbox = new Inbox();
    await A.subscribe('com.test.self', inbox.handler());
    await A.publish('com.test.self', ['excluded'], {}, { acknowledge: true });
    await A.publish('com.test.self', ['included'], {}, { acknowledge: true, exclude_me: false });
    await inbox.waitFor(1);
    await sleep(200);
    expect(deepEqual(inbox.items.map((i) => i.args), [['included']]), `events ${JSON.stringify(inbox.items)}`);
  });

  check('unsubscribe stops delivery', async () => {
    const gone = new Inbox(), marker = new Inbox();
    const sub = await A.subscribe('com.test.gone', gone.handler());
    await A.subscribe('com.test.marker', marker.handler());
    await A.unsubscribe(sub);
    await B.publish('com.test.gone', [1], {}, { acknowledge: true });
    await B.publish('com.test.marker', [2], {}, { acknowledge: true });
    await marker.waitFor(1);
    expect(gone.items.length === 0, `received after unsubscribe: ${JSON.stringify(gone.items)}`);
  });

  check('1000 events complete and in order', async () => {
    const inbox = new Inbox();
    await A.subscribe('com.test.many', inbox.handler());
    for (let i = 0; i < 1000; i++) B.publish('com.test.many', [i]);
    const items = await inbox.waitFor(1000);
    const got = items.map((i) => i.args[0]);
    const wrong = got.map((v, i) => (v === i ? -1 : i)).filter((i) => i >= 0);
    expect(got.length === 1000 && wrong.length === 0, `${got.length} events, order broken at ${wrong.slice(0, 5)}`);
  });

  check('200 concurrent calls', async () => {
    const results = await Promise.all([...Array(200).keys()].map((i) => B.call('com.test.add2', [i, i])));
    expect(results.every((r, i) => r === 2 * i), 'wrong results');
  });

  if (DEFLATE) {
    check('permessage-deflate in use', async () => {
      expect(opened.length > 0, 'no connection was opened');
      for (const socket of opened) {
        expect(socket.extensions.startsWith('permessage-deflate'), `extensions: '${socket.extensions}'`);
      }
    });
  }

  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await Promise.race([fn(), sleep(TIMEOUT_MS).then(() => { throw new Error('timed out'); })]);
      console.log(`PASS ${name}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }
  a.connection.onclose = () => true;
  b.connection.onclose = () => true;
  a.connection.close();
  b.connection.close();
  await sleep(100);
  if (failed) process.exit(1);
  console.log(`DONE ${checks.length}`);
  process.exit(0);
}

main().catch((e) => {
  console.log(`FAIL setup: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
