import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ClusterFixture } from './harness/cluster.js';
import { freePort } from './harness/ports.js';
import { sleep } from './harness/time.js';

// The Grafana dashboard and the alert rules against a real Prometheus scraping a 3-node cluster
// under a little traffic (a timed-out command, a malformed frame, a kick, a killed node): every
// panel query and recording rule returns data, every alert expression evaluates, per-node panels
// tell the nodes apart without a pod label, first increments show in increase(), timed-out calls
// reach the latency histogram, and the node-loss alerts fire. The rules run with 1 s evaluation
// and `for: 0s` so the test takes seconds, not minutes.

const repo = fileURLToPath(new URL('../..', import.meta.url));
const RULES = `${repo}deploy/prometheus/ocpp-gateway-rules.yml`;
const DASHBOARD = `${repo}deploy/grafana/ocpp-gateway-dashboard.json`;
const TOKEN = 'prometheus-test-admin-token';
const prometheusBin = spawnSync('prometheus', ['--version']).status === 0 ? 'prometheus' : undefined;

type Sample = { metric: Record<string, string>; value: [number, string] };
type Panel = { title?: string; targets?: Array<{ expr?: string }>; panels?: Panel[] };

let fixture: ClusterFixture | undefined;
let prometheus: ChildProcess | undefined;
let api = '';

async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
  assert.equal(body.status, 'success', `${expr}: ${body.error}`);
  return body.data.result;
}

async function until(expr: string, ok: (r: Sample[]) => boolean, timeoutMs = 30_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await query(expr);
    if (ok(result)) return result;
    if (Date.now() > deadline) assert.fail(`${expr} still ${JSON.stringify(result)} after ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** Dashboard queries with the Grafana variables filled in as "all". */
function dashboardExprs(): Array<{ title: string; expr: string }> {
  const out: Array<{ title: string; expr: string }> = [];
  const walk = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        if (t.expr)
          out.push({
            title: p.title ?? '',
            expr: t.expr.replaceAll('$__rate_interval', '20s').replace(/\$\{?(namespace|job|pod)\}?/g, '.*'),
          });
      walk(p.panels ?? []);
    }
  };
  walk((JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] }).panels);
  return out;
}

function ruleExprs(kind: 'record' | 'alert'): Array<{ name: string; expr: string }> {
  const text = readFileSync(RULES, 'utf8');
  const out: Array<{ name: string; expr: string }> = [];
  const re = new RegExp(
    `- ${kind}: (\\S+)\\n(?:\\s+#.*\\n)*\\s+expr: (\\|\\n((?:\\s{10,}.*\\n)+)|(.*)\\n)`,
    'g',
  );
  for (const m of text.matchAll(re)) out.push({ name: m[1]!, expr: (m[3] ?? m[4] ?? '').trim() });
  return out;
}

before(async () => {
  if (prometheusBin === undefined) return;
  fixture = await ClusterFixture.start('standalone', 3, {
    OCPP_GW_CALL_TIMEOUT_MS: '1500',
    OCPP_GW_ADMIN_TOKEN: TOKEN,
  });
  const dir = mkdtempSync(join(tmpdir(), 'prom-'));
  // Fast evaluation for the test: 1 s groups, alerts fire without waiting `for`.
  const rules = readFileSync(RULES, 'utf8')
    .replace(/interval: 30s/g, 'interval: 1s')
    .replace(/for: \d+[smh]/g, 'for: 0s');
  writeFileSync(join(dir, 'rules.yml'), rules);
  const targets = fixture.nodes.map((n) => `'127.0.0.1:${n!.ports.httpPort}'`).join(', ');
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: [rules.yml]\n` +
      `scrape_configs:\n  - job_name: ocpp-gateway\n    static_configs:\n      - targets: [${targets}]\n`,
  );
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    prometheusBin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; ; i++) {
    if ((await fetch(`${api}/-/ready`).catch(() => undefined))?.ok) break;
    if (i > 100) throw new Error('prometheus did not become ready');
    await sleep(200);
  }
  // Two scrapes of every node before any traffic: counters are seen at 0 first.
  await until('count(count_over_time(ocpp_gateway_build_info[1m]) >= 2)', (r) => r[0]?.value[1] === '3');
});

after(async () => {
  prometheus?.kill('SIGKILL');
  await fixture?.teardown();
});

describe(
  'dashboard and alert rules against a real Prometheus',
  {
    skip: prometheusBin === undefined ? 'not run: no prometheus binary (apt-get install prometheus)' : false,
  },
  () => {
    it('traffic: boots, commands across nodes, a timeout, a malformed frame, a kick, a killed node', async () => {
      const f = fixture!;
      const cps = [
        await f.responder(0, 'prom-a'),
        await f.responder(1, 'prom-b'),
        await f.responder(2, 'prom-c'),
      ];
      for (const [i, cp] of cps.entries()) {
        cp.send([2, `boot-${i}`, 'BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' }]);
      }
      for (const [i, cid] of ['prom-a', 'prom-b', 'prom-c'].entries()) {
        await f.backend.waitFor(`ocpp/cp/${cid}`, (j: { UniqueId?: string }) => j.UniqueId === `boot-${i}`);
        for (let k = 0; k < 6; k++)
          await f.backend.publish(`ocpp/cs/${cid}`, {
            MessageTypeId: 2,
            UniqueId: `cmd-${i}-${k}`,
            Action: 'ChangeAvailability',
            Payload: { connectorId: 0, type: 'Operative' },
          });
      }
      // A station that never answers: its Reset times out after 1.5 s.
      await f.connect(1, 'prom-silent');
      await f.backend.publish('ocpp/cs/prom-silent', {
        MessageTypeId: 2,
        UniqueId: 'silent-1',
        Action: 'Reset',
        Payload: { type: 'Soft' },
      });
      await f.backend.waitFor(
        'ocpp/cp/prom-silent/Reply',
        (j: { UniqueId?: string }) => j.UniqueId === 'silent-1',
        10_000,
      );
      // A malformed frame: answered with a CALLERROR and counted.
      const bad = await f.connect(2, 'prom-bad');
      bad.send('[2,"x",');
      // A kick through the admin API.
      const kick = await fetch(`http://127.0.0.1:${f.node(0).ports.httpPort}/api/v1/clients/prom-a`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.ok(kick.status < 300, `kick: ${kick.status}`);
      await sleep(3000);
    });

    it('a first malformed frame shows in increase() (frame-error counters start at 0)', async () => {
      await until('sum(increase(ocpp_gateway_frame_errors_total[1m]))', (r) => Number(r[0]?.value[1]) > 0);
    });

    it('a first kick shows in increase() (disconnect counters start at 0)', async () => {
      await until(
        'sum(increase(ocpp_gateway_disconnects_total{reason="kicked"}[1m]))',
        (r) => Number(r[0]?.value[1]) > 0,
      );
    });

    it('a timed-out call is in the downstream latency histogram (the latency alert sees it)', async () => {
      await until(
        'sum(ocpp_gateway_downstream_call_duration_seconds_count{action="Reset"})',
        (r) => Number(r[0]?.value[1]) >= 1,
      );
    });

    it('every dashboard query returns data; per-node panels show each node without a pod label', async () => {
      const exprs = dashboardExprs();
      assert.ok(exprs.length >= 47, `${exprs.length} queries`);
      const empty: string[] = [];
      for (const { title, expr } of exprs) {
        const result = await query(expr);
        if (result.length === 0) empty.push(`${title}: ${expr}`);
        if (/by \(pod\b/.test(expr) && result.length > 0)
          assert.ok(
            new Set(result.map((s) => s.metric.instance)).size >= 2,
            `${title}: one series for the cluster: ${expr}`,
          );
      }
      assert.deepEqual(empty, []);
      const all = exprs.map((e) => e.expr).join('\n');
      assert.match(all, /ocpp_gateway_mqtt_backlog_messages/, 'MQTT backlog panel');
      assert.match(all, /ocpp_gateway_mqtt_backlog_overflow_total/, 'MQTT backlog overflow panel');
    });

    it('every recording rule returns data and every alert expression evaluates', async () => {
      const records = ruleExprs('record');
      const alerts = ruleExprs('alert');
      assert.ok(
        records.length >= 15 && alerts.length >= 20,
        `${records.length} records, ${alerts.length} alerts`,
      );
      for (const { name } of records)
        assert.ok((await until(name, (r) => r.length > 0, 10_000)).length > 0, name);
      for (const { expr } of alerts) await query(expr);
      assert.ok(
        alerts.some((a) => /mqtt_backlog/.test(a.expr)),
        'an MQTT backlog alert',
      );
    });

    it('a killed node fires the node-loss alerts (up-based and session adoption)', async () => {
      await fixture!.kill(2);
      await until('ALERTS{alertname="OcppGatewayNodeDown", alertstate="firing"}', (r) => r.length === 1);
      await until('ALERTS{alertname="OcppGatewayNodeLost", alertstate="firing"}', (r) => r.length === 1);
    });

    it('every node down fires OcppGatewayAllNodesDown', async () => {
      await fixture!.kill(0);
      await fixture!.kill(1);
      await until('ALERTS{alertname="OcppGatewayAllNodesDown", alertstate="firing"}', (r) => r.length === 1);
    });
  },
);
