import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster, Redis } from 'ioredis';
import { ClusterFixture, command, metricValue, REDIS_MODES } from './harness/cluster.js';
import { ownerEntries, redisClient, waitForOwner } from './harness/owner-entries.js';
import { eventually } from './harness/time.js';

interface ErrorReply {
  UniqueId: string;
  ErrorDetails?: { origin?: string; reason?: string };
}

/**
 * Registry and route-bus edge cases (docs/architecture.md §5.2, §5.4, §5.5), each ending in an answer to the backend: an
 * entry naming a node that is not alive, an entry naming a "live" node nobody listens for, and
 * an envelope no node can read.
 */
for (const mode of REDIS_MODES) {
  describe(`registry and route bus edge cases (3 nodes, ${mode} Redis)`, () => {
    let f: ClusterFixture;
    let redis: Redis | Cluster;
    before(async () => {
      f = await ClusterFixture.start(mode);
      redis = redisClient(f);
    });
    after(async () => {
      redis.disconnect();
      await f.teardown();
    });

    /** Publishes one command per node (round-robin share) and returns each error reason. */
    async function reasons(cid: string, prefix: string): Promise<string[]> {
      const ids = [0, 1, 2].map((k) => `${prefix}-${k}`);
      for (const id of ids) await f.backend.publish(`ocpp/cs/${cid}`, command(id));
      const out: string[] = [];
      for (const id of ids) {
        const reply = await f.backend.waitFor(
          `ocpp/cp/${cid}/Reply`,
          (j: ErrorReply) => j.UniqueId === id,
          5000,
        );
        out.push((reply.json as ErrorReply).ErrorDetails?.reason ?? 'none');
      }
      return out;
    }

    it('an entry of a dead node is ignored, answered offline and cleaned', async () => {
      await redis.set('ocpp-gw:owner:orphan-cp', 'gone-node|e1', 'PX', 60_000);
      assert.deepEqual(await reasons('orphan-cp', 'orphan'), ['offline', 'offline', 'offline']);
      // A lookup in a node's start-up grace (one node TTL) routes to the entry's node rather than
      // judging it dead (§5.2, §5.3), so only a lookup after the grace cleans: ask again until one does.
      let round = 0;
      await eventually(
        async () => {
          if (!(await ownerEntries(f)).has('orphan-cp')) return true;
          const id = `orphan-again-${round++}`;
          await f.backend.publish('ocpp/cs/orphan-cp', command(id));
          await f.backend.waitFor('ocpp/cp/orphan-cp/Reply', (j: ErrorReply) => j.UniqueId === id, 5000);
          return false;
        },
        5000,
        'the stale entry is compare-deleted',
      );
    });

    it('an owner that is "alive" but has no route-bus subscriber is answered offline', async () => {
      // A liveness key without a process behind it: PUBLISH reaches 0 receivers.
      await redis.set('ocpp-gw:node:ghost-node', '{}', 'PX', 60_000);
      await redis.set('ocpp-gw:owner:ghost-cp', 'ghost-node|e1', 'PX', 60_000);
      assert.deepEqual(await reasons('ghost-cp', 'ghost'), ['offline', 'offline', 'offline']);
      await redis.del('ocpp-gw:node:ghost-node');
    });

    it('a cached owner that moved costs an extra hop, never a failed command', async () => {
      const cid = 'moving-cp';
      const first = await f.responder(0, cid);
      await waitForOwner(f, cid, 0, 3000);
      // Every node routes a few commands, so nodes 1 and 2 remember node-0 as the owner.
      for (let k = 0; k < 6; k++) await f.backend.publish(`ocpp/cs/${cid}`, command(`mv-a-${k}`));
      for (let k = 0; k < 6; k++) {
        await f.backend.waitFor(`ocpp/cp/${cid}/Reply`, (j: ErrorReply) => j.UniqueId === `mv-a-${k}`, 5000);
      }
      // It moves to node 2 (takeover), then node 0 is asked again at once.
      const second = await f.responder(2, cid);
      await first.waitClose(3000);
      await waitForOwner(f, cid, 2, 3000);
      for (let k = 0; k < 6; k++) await f.backend.publish(`ocpp/cs/${cid}`, command(`mv-b-${k}`));
      for (let k = 0; k < 6; k++) {
        const reply = await f.backend.waitFor(
          `ocpp/cp/${cid}/Reply`,
          (j: ErrorReply) => j.UniqueId === `mv-b-${k}`,
          5000,
        );
        assert.equal((reply.json as { MessageTypeId: number }).MessageTypeId, 3, `mv-b-${k} answered`);
      }
      assert.equal(second.inbox.filter((m) => String((m as unknown[])[1]).startsWith('mv-b-')).length, 6);
    });

    it('an unreadable envelope is counted and dropped; the node keeps routing', async () => {
      const channel = 'ocpp-gw:route:node-0';
      const garbage = Buffer.from('not msgpack at all \u0000\u00ff');
      const receivers =
        mode === 'standalone'
          ? await redis.publish(channel, garbage)
          : Number(await redis.spublish(channel, garbage));
      assert.equal(receivers, 1);
      await eventually(
        async () =>
          metricValue(await f.metrics(0), 'ocpp_gateway_route_envelopes_rejected_total{reason="shape"}') +
            metricValue(
              await f.metrics(0),
              'ocpp_gateway_route_envelopes_rejected_total{reason="undecodable"}',
            ) >=
          1,
        3000,
        'rejected envelope counted',
      );
      const cp = await f.responder(0, 'after-garbage');
      await eventually(async () => (await ownerEntries(f)).has('after-garbage'), 3000, 'owner entry');
      for (const k of [0, 1, 2]) await f.backend.publish('ocpp/cs/after-garbage', command(`ag-${k}`));
      for (const k of [0, 1, 2]) {
        const reply = await f.backend.waitFor(
          'ocpp/cp/after-garbage/Reply',
          (j: ErrorReply) => j.UniqueId === `ag-${k}`,
          5000,
        );
        assert.equal((reply.json as { MessageTypeId: number }).MessageTypeId, 3);
      }
      assert.equal(cp.closed, undefined);
    });
  });
}
