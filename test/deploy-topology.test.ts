import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { findHelm, helm, type Tool } from './harness/helm.js';
import { brokerLines, REPO, shippedBrokerDir, Topology } from './harness/topology.js';
import type { GatewayEnv } from './harness/gateway.js';

// What `helm template` renders with the defaults, and deploy/compose.yaml, run as local
// processes (3 gateway nodes with the rendered environment, Redis, mosquitto with the rendered
// config): a station boots through a backend on every node and a command's answer reaches the
// Reply topic (the chart's `helm test` script, the README quick-start flow).

type EnvEntry = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
type Doc = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: unknown };

let tool: Tool = { ok: false, reason: 'not looked up yet' };
const running: Topology[] = [];

before(() => {
  tool = findHelm();
});
after(async () => {
  for (const t of running) await t.stop();
});

function rendered(): Doc[] {
  assert.ok(tool.ok);
  const out = helm(tool.path, ['template', 'gw', `${REPO}helm/ocpp-gateway`]);
  assert.equal(out.status, 0, out.stderr);
  return yaml.loadAll(out.stdout).filter((d): d is Doc => d !== null && typeof d === 'object');
}

async function passesQuickStart(topology: Topology): Promise<void> {
  for (let i = 0; i < topology.nodes.length; i++) {
    const run = await topology.helmTest(i);
    assert.equal(run.code, 0, `node ${i}: ${run.output}`);
    assert.match(run.output, /helm test passed/);
  }
}

describe('helm template of the defaults, run as local processes', () => {
  it('3 nodes on Redis and the rendered mosquitto pass the quick-start flow (helm test script)', async (t) => {
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    const docs = rendered();
    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: { containers: Array<{ env: EnvEntry[] }> } } };
    };
    const entries = deployment.spec.template.spec.containers[0]!.env;
    assert.ok(entries.some((e) => e.name === 'OCPP_GW_REDIS_URL'));
    assert.ok(entries.some((e) => e.name === 'OCPP_GW_MQTT_URL'));
    const envs: GatewayEnv[] = [];
    for (let i = 0; i < deployment.spec.replicas; i++) {
      const env: GatewayEnv = {};
      for (const e of entries) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `gw-ocpp-gateway-${i}`;
      }
      envs.push(env);
    }
    assert.equal(envs.length, 3);
    const conf = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'gw-ocpp-gateway-mosquitto')!
      .data!['mosquitto.conf']!;
    const topology = await Topology.start(envs, brokerLines(conf));
    running.push(topology);
    await passesQuickStart(topology);
  });
});

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  command?: string[];
};

describe('deploy/compose.yaml', () => {
  const compose = yaml.load(readFileSync(`${REPO}deploy/compose.yaml`, 'utf8')) as {
    services: Record<string, Service>;
  };
  const services = compose.services;
  const readme = readFileSync(`${REPO}README.md`, 'utf8');
  const deployReadme = readFileSync(`${REPO}deploy/README.md`, 'utf8');
  const gateways = Object.keys(services).filter((s) => s.startsWith('gateway-'));

  it('has 3 gateway nodes, Redis, mosquitto, Prometheus, Grafana and the bench backend', () => {
    assert.deepEqual(gateways, ['gateway-0', 'gateway-1', 'gateway-2']);
    for (const s of ['redis', 'mosquitto', 'prometheus', 'grafana', 'backend']) assert.ok(services[s], s);
  });

  it('every image is an official image pinned to a version, or the gateway built from deploy/Dockerfile', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.match(s.image ?? '', /^[a-z/-]+:[\w.-]+$/, `${name}: ${s.image}`);
      assert.doesNotMatch(s.image!, /:latest$/, name);
      if (s.build)
        assert.ok(
          existsSync(`${REPO}deploy/${s.build.context}/${s.build.dockerfile}`),
          `${name}: Dockerfile`,
        );
    }
    for (const g of gateways) assert.equal(services[g]!.image, 'ocpp-gateway:dev');
  });

  it('every volume source exists; prometheus loads the shipped rules, grafana the shipped dashboard', () => {
    for (const [name, s] of Object.entries(services))
      for (const v of s.volumes ?? []) {
        const [source] = v.split(':');
        assert.ok(existsSync(`${REPO}deploy/${source}`), `${name}: ${source}`);
      }
    assert.ok(
      services.prometheus!.volumes!.some((v) => v.startsWith('./prometheus/ocpp-gateway-rules.yml:')),
    );
    assert.ok(services.grafana!.volumes!.some((v) => v.startsWith('./grafana/ocpp-gateway-dashboard.json:')));
    const prom = readFileSync(`${REPO}deploy/compose/prometheus.yml`, 'utf8');
    for (const g of gateways) assert.match(prom, new RegExp(`'${g}:9464'`));
  });

  it('ports: unique host ports, container ports the README defaults, each listed in deploy/README.md', () => {
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]!));
    assert.equal(new Set(hostPorts).size, hostPorts.length, hostPorts.join());
    for (const g of gateways) {
      const container = services[g]!.ports!.map((p) => p.split(':')[1]);
      assert.deepEqual(container, ['33033', '9464']);
    }
    assert.match(readme, /\| `OCPP_GW_PORT` +\| `33033`/);
    assert.match(readme, /\| `OCPP_GW_HTTP_PORT` +\| `9464`/);
    for (const p of hostPorts)
      assert.ok(deployReadme.includes(p), `deploy/README.md does not mention port ${p}`);
  });

  it('every OCPP_GW_* variable is in the README variable table', () => {
    const names = Object.values(services).flatMap((s) => Object.keys(s.environment ?? {}));
    const used = names.filter((n) => n.startsWith('OCPP_GW_'));
    assert.ok(used.length >= 4, used.join());
    for (const n of used) assert.match(readme, new RegExp(`\\| \`${n}\` `), `${n} not in the README table`);
  });

  it('the backend runs bench/backend with its BENCH_BACKEND_* settings', (t) => {
    const backend = services.backend!;
    assert.deepEqual(backend.command, ['node', 'dist/bench/backend/main.js']);
    const config = `${REPO}bench/backend/config.ts`;
    if (!existsSync(config)) return t.skip('not run: bench/backend is not on this branch yet');
    const source = readFileSync(config, 'utf8');
    for (const n of Object.keys(backend.environment ?? {})) assert.ok(source.includes(`'${n}'`), n);
  });

  it('the same topology runs as local processes and passes the quick-start flow', async () => {
    const envs = gateways.map((g) => services[g]!.environment as GatewayEnv);
    const conf = readFileSync(`${REPO}deploy/compose/mosquitto.conf`, 'utf8').replace(
      '/mosquitto/config/gateway',
      shippedBrokerDir(),
    );
    assert.match(conf, /include_dir/);
    const topology = await Topology.start(envs, brokerLines(conf));
    running.push(topology);
    await passesQuickStart(topology);
  });
});
