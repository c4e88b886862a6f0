import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChargePoint } from './harness/cp-client.js';
import { answerCalls, ClusterFixture, metricValue } from './harness/cluster.js';
import { commandRounds, outcomes, settledTally } from './harness/command-outcomes.js';
import { cutIdentity, NetCut } from './harness/net-cut.js';
import { ownerEntries } from './harness/owner-entries.js';
import {
  errorRepliedButWritten,
  handledPerNode,
  readyz,
  reachableWithin,
  writeCounts,
} from './harness/partition-checks.js';
import { eventually, sleep } from './harness/time.js';

/**
 * Silent partitions (docs/architecture.md §5.13): one of three gateway processes (node-1, run as
 * its own Unix user) has its packets to Redis, to the broker, or to both dropped with iptables
 * for 5 s, longer than the 1.5 s node TTL, while commands flow to charge points on every node.
 * The sockets stay open: nothing closes, nothing resets. Afterwards: no command lost, none
 * written twice, no error reply for a command a charge point received (beyond the window the
 * node counts), node-1's charge points reachable from every node within 10 s of the heal, and
 * every node taking its share of the downstream subscription.
 */
const ENV = {
  OCPP_GW_NODE_HEARTBEAT_MS: '250',
  OCPP_GW_NODE_TTL_MS: '1500',
  OCPP_GW_MQTT_KEEPALIVE_S: '2',
};
const CUT_MS = 5000;
/** The route timeout these nodes use: 2 × OCPP_GW_CALL_TIMEOUT_MS (5000, harness) + 10 s. */
const ROUTE_TIMEOUT_MS = 20_000;

type Target = 'redis' | 'broker' | 'both';

for (const target of ['redis', 'broker', 'both'] as const satisfies readonly Target[]) {
  describe(`node-1 silently cut from ${target} for ${CUT_MS} ms (standalone Redis)`, () => {
    let f: ClusterFixture;
    const cps: ChargePoint[] = [];
    let cut: NetCut | undefined;
    before(async () => {
      f = await ClusterFixture.start('standalone', 3, ENV, { identities: [undefined, cutIdentity()] });
    });
    after(async () => {
      await cut?.heal();
      await f.teardown();
    });

    it('loses nothing, writes nothing twice, and node-1 serves and routes again after the heal', async (t) => {
      const cids = Array.from({ length: 30 }, (_, i) => `${target}-cut-cp-${i}`);
      for (const [i, cid] of cids.entries()) {
        const cp = await f.connect(Math.floor(i / 10), cid);
        answerCalls(cp, 100);
        cps.push(cp);
      }
      await eventually(async () => (await ownerEntries(f)).size >= 30, 5000, '30 owner entries');
      const ports = [
        ...(target === 'broker' ? [] : [f.redis?.port ?? 0]),
        ...(target === 'redis' ? [] : [f.mosquitto.port]),
      ];
      const { uid } = cutIdentity();
      let healedAt = 0;
      let sawNotReady = false;
      let poll: NodeJS.Timeout | undefined;
      const roundAt: number[] = [];
      const ids = await commandRounds(f, cids, 40, 150, async (round) => {
        roundAt[round] = Date.now();
        if (round === 5) {
          cut = await NetCut.cut(uid, ports);
          poll = setInterval(() => {
            void readyz(f, 1).then((status) => (sawNotReady ||= status === 503));
          }, 250);
        }
        if (round === 30) {
          await sleep(Math.max(0, CUT_MS - 25 * 150));
          clearInterval(poll);
          await cut?.heal();
          healedAt = Date.now();
        }
      });
      const counts = await settledTally(f, ids, 30_000);
      const written = writeCounts(cps);
      const twice = [...written].filter(([id, n]) => n > 1 && ids.includes(id)).map(([id]) => id);
      const wrongErrors = errorRepliedButWritten(f, new Map([...written].filter(([id]) => ids.includes(id))));
      const kinds = outcomes(f, wrongErrors);
      t.diagnostic(`error kinds of written: ${JSON.stringify([...kinds].slice(0, 60))}`);
      if (process.env.PARTITION_DEBUG !== undefined) {
        for (const id of wrongErrors.slice(0, 3))
          t.diagnostic(
            JSON.stringify(f.backend.seen.filter((m) => JSON.stringify(m.json).includes(`"${id}"`))),
          );
        for (const i of [0, 1, 2])
          for (const l of f
            .node(i)
            .stdout()
            .split('\n')
            .filter((x) => x.includes('"level":40') || x.includes('"level":50')))
            t.diagnostic(`node-${i}: ${l.replace(/"err":\{.*?\},/, '').slice(0, 300)}`);
      }
      const metrics = await f.metrics(1);
      const window = metricValue(
        metrics,
        'ocpp_gateway_partition_events_total{event="answered_after_lapse"}',
      );
      const events = metrics
        .split('\n')
        .filter((l) => l.startsWith('ocpp_gateway_partition_events_total{'))
        .map((l) => l.replace('ocpp_gateway_partition_events_total', ''));
      t.diagnostic(`node-1 partition events: ${events.join(' ')}`);
      t.diagnostic(
        `${ids.length} commands: ${JSON.stringify(counts)}; written twice ${twice.length}; ` +
          `error reply though written ${wrongErrors.length}; counted window ${window}`,
      );
      assert.equal(counts.neither ?? 0, 0, 'commands with neither an answer nor an error reply');
      assert.deepEqual(twice, [], 'commands written to a charge point twice');
      // A peer that lost sight of node-1 answers node_lost at once only for a command whose
      // written-mark it fenced, which node-1 then never writes; one whose mark node-1 took waits
      // for its outcome up to the route deadline (docs/architecture.md §5.13): never both.
      const peerVerdicts = wrongErrors.filter(
        (id) => kinds.get(id) === 'answered' || kinds.get(id) === 'error:node_lost',
      );
      const misleading = wrongErrors.filter((id) => !peerVerdicts.includes(id));
      // Open (issue 12), not this rule: node-1 wrote the command just before a cut from both,
      // and the station's answer never left node-1 (no answer on the Reply topic at all), so the
      // sender's node_lost at the route deadline is the command's only outcome, as it must be.
      const answered = new Set(
        f.backend.seen
          .filter(
            (m) => m.topic.endsWith('/Reply') && (m.json as { MessageTypeId: number }).MessageTypeId === 3,
          )
          .map((m) => (m.json as { UniqueId: string }).UniqueId),
      );
      const errorAt = (id: string): number =>
        Number(
          f.backend.seen.find(
            (m) =>
              m.topic.endsWith('/Reply') &&
              (m.json as { UniqueId: string; MessageTypeId: number }).UniqueId === id &&
              (m.json as { MessageTypeId: number }).MessageTypeId === 4,
          )?.userProperties?.['received-at'] ?? 0,
        );
      const sentAt = (id: string): number => roundAt[Number(/^r(\d+)-/.exec(id)?.[1] ?? -1)] ?? Infinity;
      const answerLost = peerVerdicts.filter(
        (id) => !answered.has(id) && errorAt(id) - sentAt(id) >= ROUTE_TIMEOUT_MS - 1000,
      );
      const both = peerVerdicts.filter((id) => !answerLost.includes(id));
      t.diagnostic(`written commands also error-replied node_lost by a peer: ${both.length}`);
      assert.deepEqual(both, [], 'written commands also answered node_lost by a peer');
      t.diagnostic(
        `OPEN (issue 12): written, the answer never published, node_lost at the route deadline: ${answerLost.length}`,
      );
      assert.ok(
        answerLost.length <= 10,
        `answers lost beyond node-1's ten in flight: ${answerLost.join(',')}`,
      );
      assert.ok(
        misleading.length <= window,
        `error replies for written commands (${misleading.join(',')}) beyond the counted window ${window}`,
      );

      // node-1's charge points, reachable from every node soon after the heal.
      const ms = await reachableWithin(f, cids.slice(10, 20), 10_000, `${target}-probe`);
      t.diagnostic(
        `node-1's charge points answered commands from all nodes ${Date.now() - healedAt} ms after the heal (${ms} ms of probing)`,
      );
      assert.ok(Date.now() - healedAt <= 12_000, 'reachable within 10 s of the heal');

      // Every node holds its downstream subscription: each takes a share of new commands.
      const before = await handledPerNode(f, [0, 1, 2]);
      await commandRounds(f, cids.slice(0, 10), 10, 50);
      await eventually(
        async () => {
          const now = await handledPerNode(f, [0, 1, 2]);
          return now.every((n, i) => n > (before[i] ?? 0));
        },
        10_000,
        'every node took some of the downstream commands after the heal',
      );
      assert.ok(sawNotReady, `node-1 reported not ready (/readyz 503) while cut from ${target}`);
    });
  });
}
