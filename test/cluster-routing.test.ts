import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { decodeEnvelope, encodeEnvelope } from '../src/cluster/route-envelope.js';
import { ClusterFixture, command, metricValue, REDIS_MODES } from './harness/cluster.js';
import { ownerEntries, waitForOwner } from './harness/owner-entries.js';
import { eventually, sleep } from './harness/time.js';

/** Issue 4: routing across 3 gateway processes, against standalone Redis and Redis Cluster. */
for (const mode of REDIS_MODES) {
  describe(`cluster routing (3 nodes, ${mode} Redis)`, () => {
    let f: ClusterFixture;
    before(async () => {
      f = await ClusterFixture.start(mode);
    });
    after(async () => f.teardown());

    it('delivers one command to each of 300 CPs on 3 nodes and publishes every reply', async (t) => {
      const cids = Array.from({ length: 300 }, (_, i) => `${mode}-cp-${i}`);
      // Blocks of 100 per node: mosquitto hands shared-subscription messages round-robin, so
      // i % 3 would line every command up with its owner and nothing would cross nodes.
      const home = (i: number): number => Math.floor(i / 100);
      for (const [i, cid] of cids.entries()) await f.responder(home(i), cid);
      let entries = new Map<string, string>();
      await eventually(
        async () => {
          entries = await ownerEntries(f);
          return cids.every((cid) => entries.has(cid));
        },
        10_000,
        'all 300 owner entries written',
      );
      for (const [i, cid] of cids.entries()) {
        assert.ok(entries.get(cid)?.startsWith(`node-${home(i)}|`), `${cid} owned by node-${home(i)}`);
      }
      await Promise.all(cids.map((cid) => f.backend.publish(`ocpp/cs/${cid}`, command(`cmd-${cid}`))));
      const replied = (cid: string): boolean =>
        f.backend
          .on(`ocpp/cp/${cid}/Reply`)
          .some((m) => (m.json as { UniqueId?: string }).UniqueId === `cmd-${cid}`);
      await eventually(() => cids.every(replied), 20_000, 'a reply for each of 300 commands');
      const replies = cids.flatMap((cid) => f.backend.on(`ocpp/cp/${cid}/Reply`));
      const results = replies.filter((m) => (m.json as { MessageTypeId: number }).MessageTypeId === 3);
      assert.equal(results.length, 300, 'every reply is the CP CALLRESULT, none a gateway error');
      // The shared subscription spreads commands over the nodes: most are owned elsewhere.
      let forwarded = 0;
      for (let i = 0; i < 3; i++) {
        forwarded += metricValue(await f.metrics(i), 'ocpp_gateway_route_total{result="forwarded"}');
      }
      t.diagnostic(`forwarded over the route bus: ${forwarded} of 300`);
      assert.ok(forwarded > 0, 'some commands crossed nodes');
    });

    it('takes a CP over across nodes: old socket closed "replaced", registry on the new node', async () => {
      const cid = `${mode}-takeover`;
      const first = await f.responder(0, cid);
      await waitForOwner(f, cid, 0, 5000);
      const oldEntry = (await ownerEntries(f)).get(cid) ?? '';
      const second = await f.responder(1, cid);
      const closed = await first.waitClose(5000);
      assert.deepEqual(closed, { code: 1000, reason: 'replaced' });
      await waitForOwner(f, cid, 1, 5000);
      // Node 0 released its socket and must not have deleted node 1's entry.
      await sleep(300);
      assert.ok((await ownerEntries(f)).get(cid)?.startsWith('node-1|'));
      await f.backend.publish(`ocpp/cs/${cid}`, command('after-takeover'));
      await f.backend.waitFor(
        `ocpp/cp/${cid}/Reply`,
        (j: { UniqueId: string; MessageTypeId: number }) =>
          j.UniqueId === 'after-takeover' && j.MessageTypeId === 3,
        5000,
      );
      assert.ok(second.inbox.some((m) => (m as unknown[])[1] === 'after-takeover'));

      // A deliver envelope carrying the old session's epoch is discarded: reported stale, never written.
      const oldEpoch = oldEntry.slice(oldEntry.lastIndexOf('|') + 1);
      const redisOptions = { lazyConnect: true, maxRetriesPerRequest: 0 };
      const probe = f.redis !== undefined ? new Redis(f.redis.port, '127.0.0.1', redisOptions) : undefined;
      if (probe !== undefined) {
        const listener = new Redis(f.redis?.port ?? 0, '127.0.0.1', redisOptions);
        await Promise.all([probe.connect(), listener.connect()]);
        const replies: unknown[] = [];
        listener.on('messageBuffer', (_c: Buffer, payload: Buffer) => replies.push(decodeEnvelope(payload)));
        await listener.subscribe('ocpp-gw:route:probe');
        const stale = {
          v: 1,
          k: 'deliver',
          from: 'probe',
          ref: 7,
          cid,
          epoch: oldEpoch,
          dup: false,
          msg: { type: 2, uniqueId: 'stale-1', action: 'Reset', payload: { type: 'Soft' } },
        } as const;
        assert.equal(await probe.publish('ocpp-gw:route:node-1', encodeEnvelope(stale)), 1);
        await eventually(() => replies.length > 0, 3000, 'reply to the stale envelope');
        assert.deepEqual(replies[0], {
          ok: true,
          envelope: { v: 1, k: 'reply', from: 'node-1', ref: 7, outcome: 'stale' },
        });
        await sleep(200);
        assert.ok(!second.inbox.some((m) => (m as unknown[])[1] === 'stale-1'), 'stale message not written');
        probe.disconnect();
        listener.disconnect();
      }
    });

    it('after a takeover the commands still waiting on the old node reach the new one', async () => {
      type Reply = { UniqueId: string; MessageTypeId: number; ErrorDetails?: { reason?: string } };
      const cid = `${mode}-handover`;
      const silent = await f.connect(0, cid); // never answers: commands queue on node-0
      await waitForOwner(f, cid, 0, 5000);
      const ids = ['h1', 'h2', 'h3', 'h4'];
      for (const id of ids) await f.backend.publish(`ocpp/cs/${cid}`, command(id));
      await eventually(() => silent.inbox.length === 1, 5000, 'one command written on node-0');
      await sleep(300); // the rest are queued behind it, whichever node received them
      // Usually h1, but the nodes forward on their own: whichever reached node-0 first.
      const written = String((silent.inbox[0] as unknown[])[1]);
      const waiting = ids.filter((id) => id !== written);
      const moved = await f.responder(2, cid);
      await silent.waitClose(5000);
      const outcome = async (id: string): Promise<Reply> =>
        (await f.backend.waitFor(`ocpp/cp/${cid}/Reply`, (j: Reply) => j.UniqueId === id, 5000))
          .json as Reply;
      assert.equal((await outcome(written)).ErrorDetails?.reason, 'disconnected');
      for (const id of waiting) assert.equal((await outcome(id)).MessageTypeId, 3, `${id} answered`);
      // As a set: the shared subscription spread h1-h4 over three nodes, which forwarded each on
      // its own, so they may have queued on node-0 in another order than published.
      assert.deepEqual(moved.inbox.map((m) => (m as unknown[])[1]).sort(), waiting);
    });

    it('answers a command for a CP connected nowhere with an offline error reply', async () => {
      await f.backend.publish('ocpp/cs/nobody-here', command('to-nobody'));
      const reply = await f.backend.waitFor('ocpp/cp/nobody-here/Reply', () => true, 5000);
      assert.deepEqual((reply.json as { ErrorDetails: unknown }).ErrorDetails, {
        origin: 'gateway',
        reason: 'offline',
      });
    });
  });
}
