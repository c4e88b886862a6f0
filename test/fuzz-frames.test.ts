import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ChargePoint } from './harness/cp-client.js';
import { basic, credentials } from './harness/auth.js';
import { spawnGateway, type GatewayProcess } from './harness/gateway.js';
import { Mosquitto } from './harness/mosquitto.js';
import { MqttObserver } from './harness/mqtt-observer.js';
import { rawUpgrade } from './harness/raw-upgrade.js';

/**
 * Hostile input against a running gateway with Basic auth (issue 10 item 9): fast-check
 * properties over upgrades (subprotocol lists, query strings, Authorization headers) and over
 * frames on authenticated 1.6 and 2.0.1 sockets (arbitrary text, arbitrary JSON, near-valid
 * OCPP-J frames). The gateway never dies, answers each refused upgrade with exactly its status,
 * publishes only on its stations' own topics (an observer on `#` sees everything the broker
 * carries), and its memory stays bounded. Seed: FUZZ_SEED, else a fixed one.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 10_2026);
const STATIONS = { FZ16: 'ocpp1.6', FZ201: 'ocpp2.0.1' } as const;
type Station = keyof typeof STATIONS;
const SUPPORTED = ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'];
/** Every topic the gateway may publish on for these stations (EMQX layout, presence events). */
const OWN_TOPIC = /^ocpp\/(cp\/(FZ16|FZ201)(\/Reply)?|events\/(FZ16|FZ201)\/(connected|disconnected))$/;

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? NaN) * 1024;
}

// ---- upgrades ----

const protocolEntry = fc.oneof(
  fc.constantFrom(
    'ocpp1.6',
    'ocpp2.0.1',
    'ocpp2.1',
    'OCPP1.6',
    'ocpp1.5',
    ' ocpp2.0.1 ',
    '',
    ' ',
    'ocpp1.6;q=1',
  ),
  fc.stringMatching(/^[\x21-\x2b\x2d-\x7e]{1,12}$/), // a token without ","
);

const authorization = (id: string, passwords: Record<string, string>): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(basic(id, passwords[id] ?? 'x')) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((p) => basic(id, p)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...Object.keys(STATIONS)).map((u) => basic(u, passwords[id] ?? 'x')),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,60}$/).map((s) => `Basic ${s}`) },
    { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,80}$/) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => `Basic ${Buffer.from(b).toString('base64')}`),
    },
  );

interface UpgradeCase {
  readonly id: string;
  readonly query: string;
  readonly protocols: string[];
  readonly auth: string | undefined;
}

/** The subprotocol the gateway picks (RFC 6455 §4.2.2: the client's order, exact match), '' none offered. */
function picked(protocols: string[]): string | undefined {
  const entries = protocols
    .join(',')
    .split(',')
    .map((e) => e.trim());
  if (entries.every((e) => e === '')) return '';
  return entries.find((e) => SUPPORTED.includes(e));
}

// ---- frames ----

const uniqueId = fc.oneof(fc.string({ minLength: 1, maxLength: 36 }), fc.jsonValue({ maxDepth: 1 }));
const action = fc.oneof(
  fc.constantFrom('Heartbeat', 'BootNotification', 'StatusNotification', 'Authorize', 'DataTransfer'),
  fc.constantFrom('MeterValues', 'TransactionEvent', 'NotifyReport', 'heartbeat', ''),
  fc.string({ maxLength: 20 }),
);
const payload = fc.oneof(fc.object({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }));
const nearValid = fc.oneof(
  fc.tuple(fc.constant(2), uniqueId, action, payload),
  fc.tuple(fc.constant(3), uniqueId, payload),
  fc.tuple(fc.constant(4), uniqueId, fc.string(), fc.string(), payload),
  fc.tuple(
    fc.oneof(fc.integer({ min: -2, max: 9 }), fc.constantFrom('2', 2.5, null)),
    uniqueId,
    action,
    payload,
  ),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 7 }),
);
const frameText = fc.oneof(
  { weight: 4, arbitrary: nearValid.map((f) => JSON.stringify(f)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'grapheme' }) },
  { weight: 1, arbitrary: nearValid.map((f) => JSON.stringify(f).slice(0, -1)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('[2,"a","Heartbeat",{}', '[', '[]', '[2]', 'null', '"x"', ' [3 , "a" , {} ] '),
  },
);

describe('frame and upgrade fuzz against real mosquitto, Basic auth on', () => {
  let dir: string;
  let broker: Mosquitto;
  let gw: GatewayProcess;
  let observer: MqttObserver;
  const passwords: Record<string, string> = {};
  const rss: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fuzz-frames-'));
    const env = { OCPP_GW_AUTH_FILE: join(dir, 'credentials.json') };
    for (const id of Object.keys(STATIONS)) {
      const made = await credentials(['set', id, '--generate'], env);
      assert.equal(made.code, 0, made.stderr);
      passwords[id] = String(made.json?.password);
    }
    broker = await Mosquitto.start();
    observer = await MqttObserver.connect(broker.url, ['#']);
    gw = await spawnGateway({
      ...env,
      OCPP_GW_MQTT_URL: broker.url,
      OCPP_GW_NODE_ID: 'fuzz-frames',
      OCPP_GW_AUTH_MODE: 'basic',
      // Refusals here are the property's, not the back-off's or the rate limits'.
      OCPP_GW_AUTH_MAX_FAILURES_PER_ID: '1000000',
      OCPP_GW_AUTH_MAX_FAILURES_PER_ADDRESS: '1000000',
      OCPP_GW_UPGRADES_PER_ADDRESS_PER_S: '1000000',
      OCPP_GW_UPGRADE_BURST_PER_ADDRESS: '1000000',
      OCPP_GW_CALLS_PER_S: '1000000',
      OCPP_GW_CALL_BURST: '1000000',
    });
    rss.push(rssBytes(gw.child.pid ?? 0));
  });
  after(async () => {
    await observer.end();
    const stopped = gw.stop();
    const timer = setTimeout(() => gw.child.kill('SIGKILL'), 10_000);
    await stopped;
    clearTimeout(timer);
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function alive(): Promise<void> {
    assert.equal(gw.child.exitCode, null, 'the gateway process is alive');
    assert.equal((await fetch(`http://127.0.0.1:${gw.ports.httpPort}/healthz`)).status, 200);
  }

  it('answers every upgrade with 101 or exactly its status; refused ones publish nothing', async () => {
    const accepted = new Map<string, number>();
    const outcomes = new Map<string, number>();
    const caseArb: fc.Arbitrary<UpgradeCase> = fc
      .record({
        id: fc.constantFrom('FZ16', 'FZ201', 'FZ-UNKNOWN'),
        query: fc.oneof(
          fc.constant(''),
          fc.stringMatching(/^[A-Za-z0-9%&=+;/?:@._~!$'()*,#-]{0,60}$/).map((q) => `?${q}`),
        ),
        protocols: fc.array(protocolEntry, { maxLength: 4 }),
      })
      .chain((c) => authorization(c.id, passwords).map((auth) => ({ ...c, auth })));
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const protocol = picked(c.protocols);
        const answer = await rawUpgrade(gw.ports.wsPort, `/ocpp/${c.id}${c.query}`, {
          protocolLines: c.protocols,
          extraLines: c.auth === undefined ? [] : [`Authorization: ${c.auth}`],
        });
        answer.socket.destroy();
        const valid = c.id in passwords && c.auth === basic(c.id, passwords[c.id] ?? '');
        if (protocol === '') {
          // OCPP_GW_REQUIRE_SUBPROTOCOL (default true): a station must name its OCPP version.
          assert.deepEqual([answer.status, answer.body], [400, 'no_subprotocol']);
        } else if (protocol === undefined) {
          assert.deepEqual([answer.status, answer.body], [400, 'no_supported_subprotocol']);
        } else if (!valid) {
          assert.equal(answer.status, 401, answer.body);
          assert.equal(answer.headers.get('www-authenticate'), 'Basic realm="ocpp"');
        } else {
          assert.equal(answer.status, 101, answer.body);
          assert.equal(answer.headers.get('sec-websocket-protocol'), protocol);
          accepted.set(c.id, (accepted.get(c.id) ?? 0) + 1);
        }
        outcomes.set(String(answer.status), (outcomes.get(String(answer.status)) ?? 0) + 1);
      }),
      {
        numRuns: 1_500,
        seed: SEED,
        endOnFailure: true,
        interruptAfterTimeLimit: 25_000,
        includeErrorInReport: true,
      },
    );
    for (const status of ['101', '400', '401']) assert.ok((outcomes.get(status) ?? 0) > 0, `no ${status}`);
    // Each accepted upgrade announced exactly once; no refused one announced at all.
    await observer
      .waitFor(
        () => true,
        () =>
          [...accepted].every(
            ([id, n]) => observer.seen.filter((m) => m.topic === `ocpp/events/${id}/connected`).length >= n,
          ),
        10_000,
      )
      .catch(() => undefined);
    for (const id of ['FZ16', 'FZ201', 'FZ-UNKNOWN']) {
      const announced = observer.seen.filter((m) => m.topic === `ocpp/events/${id}/connected`).length;
      assert.equal(announced, accepted.get(id) ?? 0, `${id} connected events`);
    }
    await alive();
    rss.push(rssBytes(gw.child.pid ?? 0));
  });

  it('takes arbitrary and near-valid frames on 1.6 and 2.0.1 sockets without dying or publishing elsewhere', async () => {
    const sockets = new Map<Station, ChargePoint>();
    const open = async (station: Station): Promise<ChargePoint> => {
      const known = sockets.get(station);
      if (known !== undefined && known.closed === undefined) return known;
      const cp = await ChargePoint.connect(
        `ws://127.0.0.1:${gw.ports.wsPort}/ocpp/${station}`,
        [STATIONS[station]],
        {
          authorization: basic(station, passwords[station] ?? ''),
        },
      );
      sockets.set(station, cp);
      return cp;
    };
    let sentinel = 0;
    const closes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Station>('FZ16', 'FZ201'),
        fc.array(frameText, { minLength: 1, maxLength: 12 }),
        async (station, frames) => {
          const cp = await open(station);
          for (const text of frames) cp.send(text);
          // A CALL whose payload is not an object is answered in both versions (OCPP-J 1.6
          // §4.2.3, 2.0.1 Part 4 §4.3); frames are taken in order, so its answer means every
          // frame before it was handled.
          const id = `sentinel-${(sentinel += 1)}`;
          cp.send([2, id, 'Heartbeat', 'not an object']);
          try {
            const answer = await cp.next((m) => Array.isArray(m) && m[1] === id, 10_000);
            assert.ok(Array.isArray(answer) && answer[0] === 4, JSON.stringify(answer));
          } catch (error) {
            // Only a specified close ends a socket: 1003 binary, 1008 policy, 1009 too large.
            if (cp.closed === undefined) throw error;
            assert.ok([1003, 1008, 1009].includes(cp.closed.code), `closed ${JSON.stringify(cp.closed)}`);
            closes.set(cp.closed.code, (closes.get(cp.closed.code) ?? 0) + 1);
          }
        },
      ),
      {
        numRuns: 1_500,
        seed: SEED,
        endOnFailure: true,
        interruptAfterTimeLimit: 25_000,
        includeErrorInReport: true,
      },
    );
    for (const cp of sockets.values()) cp.ws.terminate();
    await alive();
    rss.push(rssBytes(gw.child.pid ?? 0));
  });

  it('published only on its own stations topics, and kept its memory bounded', (t) => {
    const foreign = observer.seen.filter((m) => !OWN_TOPIC.test(m.topic)).map((m) => m.topic);
    assert.deepEqual([...new Set(foreign)], []);
    assert.ok(
      observer.seen.some((m) => m.topic === 'ocpp/cp/FZ16'),
      'frames of the 1.6 station reached MQTT',
    );
    assert.ok(
      observer.seen.some((m) => m.topic === 'ocpp/cp/FZ201'),
      'frames of the 2.0.1 station reached MQTT',
    );
    const [first = NaN, ...later] = rss;
    const peak = Math.max(...later);
    t.diagnostic(
      `RSS MB: ${rss.map((b) => (b / 2 ** 20).toFixed(0)).join(' -> ')}; ${observer.seen.length} messages seen`,
    );
    // Bounded: nothing a run sends is kept; generous for a garbage collector that has not run.
    assert.ok(
      peak < first + 150 * 1024 * 1024,
      `RSS ${(first / 2 ** 20).toFixed(0)} MB, peak ${(peak / 2 ** 20).toFixed(0)} MB`,
    );
  });
});
