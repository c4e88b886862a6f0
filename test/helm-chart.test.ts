import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { findHelm, helm, type Tool } from './harness/helm.js';
import { loadValidator, type Validator } from './harness/k8s-schemas.js';

// The chart's checks: helm lint --strict, helm template for every ci/*-values.yaml, each rendered
// manifest validated against the Kubernetes schemas, and the bundled broker kept in step with
// deploy/mosquitto/mosquitto.conf. Without helm or the schemas they are skipped with the reason.

const repo = fileURLToPath(new URL('../..', import.meta.url));
const chart = `${repo}helm/ocpp-gateway`;
const ciFiles = readdirSync(`${chart}/ci`).filter((f) => f.endsWith('-values.yaml'));
// kubectl v1.33 ships beside helm in the layer package: render for that API version.
const KUBE_VERSION = '1.33.0';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

let tool: Tool = { ok: false, reason: 'not looked up yet' };
let validator: { ok: true; validate: Validator } | { ok: false; reason: string } = { ok: false, reason: '' };

function render(values: string[], extra: string[] = []): Manifest[] {
  assert.ok(tool.ok);
  const args = ['template', 'gw', chart, '--kube-version', KUBE_VERSION, ...values.flatMap((v) => ['-f', v])];
  const out = helm(tool.path, [...args, ...extra]);
  assert.equal(out.status, 0, out.stderr);
  return yaml.loadAll(out.stdout).filter((d): d is Manifest => d !== null && typeof d === 'object');
}

type Workload = Manifest & {
  spec: {
    replicas?: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        containers: Array<{
          env: Array<{ name: string; value?: string; valueFrom?: unknown }>;
          resources?: { requests?: unknown };
          startupProbe?: unknown;
          livenessProbe?: unknown;
          readinessProbe?: unknown;
        }>;
      };
    };
  };
};

/** The Deployment and StatefulSets running the gateway container (not the bundled Redis or broker). */
function workloads(manifests: Manifest[]): Workload[] {
  return (manifests as Workload[]).filter(
    (m) =>
      (m.kind === 'Deployment' || m.kind === 'StatefulSet') &&
      m.spec.template.spec.containers[0]?.env?.some((e) => e.name === 'OCPP_GW_NODE_ID') === true,
  );
}

function podEnv(workload: Workload): Map<string, unknown> {
  return new Map(workload.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value ?? e.valueFrom]));
}

function env(manifests: Manifest[]): Map<string, unknown> {
  return podEnv(manifests.find((m) => m.kind === 'Deployment') as Workload);
}

before(() => {
  tool = findHelm();
  if (tool.ok) validator = loadValidator();
});

describe('helm chart', () => {
  it('lints with --strict for the defaults and every ci/*-values.yaml', (t) => {
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    assert.ok(ciFiles.length >= 6, ciFiles.join());
    for (const file of [undefined, ...ciFiles]) {
      const out = helm(tool.path, [
        'lint',
        '--strict',
        chart,
        ...(file ? ['-f', `${chart}/ci/${file}`] : []),
      ]);
      assert.equal(out.status, 0, `${file ?? 'defaults'}: ${out.stdout}${out.stderr}`);
    }
  });

  it('renders every ci/*-values.yaml into manifests valid against the Kubernetes schemas', async (t) => {
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    if (!validator.ok) return t.skip(`not run: ${validator.reason}`);
    let checked = 0;
    for (const file of ciFiles) {
      for (const manifest of render([`${chart}/ci/${file}`])) {
        const problem = await validator.validate(manifest);
        assert.equal(problem, undefined, `${file}: ${manifest.kind} ${manifest.metadata.name}: ${problem}`);
        checked++;
      }
    }
    assert.ok(checked > 30, `${checked} manifests`);
  });

  it('the schema check catches a broken manifest (the validator is live)', async (t) => {
    if (!tool.ok || !validator.ok) return t.skip('not run: needs helm and the schemas');
    const [deployment] = render([]).filter((m) => m.kind === 'Deployment');
    const broken = JSON.parse(JSON.stringify(deployment)) as Manifest & {
      spec: { template: { spec: { containers: Array<{ ports: Array<{ containerPort: unknown }> }> } } };
    };
    broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'ocpp';
    assert.match((await validator.validate(broken)) ?? '', /containerPort/);
  });

  it('defaults: 3 gateway replicas on the bundled Redis and mosquitto, NetworkPolicies, a helm test pod', (t) => {
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    const manifests = render([]);
    const kinds = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    for (const expected of [
      'Deployment/gw-ocpp-gateway',
      'StatefulSet/gw-ocpp-gateway-redis',
      'StatefulSet/gw-ocpp-gateway-mosquitto',
      'Service/gw-ocpp-gateway-mosquitto',
      'NetworkPolicy/gw-ocpp-gateway',
      'Pod/gw-ocpp-gateway-test',
    ])
      assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(', ')}`);
    const vars = env(manifests);
    assert.equal(vars.get('OCPP_GW_MQTT_URL'), 'mqtt://gw-ocpp-gateway-mosquitto:1883');
    assert.equal(vars.get('OCPP_GW_REDIS_URL'), 'redis://gw-ocpp-gateway-redis:6379');
    const deployment = manifests.find((m) => m.kind === 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: { topologySpreadConstraints: unknown[] } } };
    };
    assert.equal(deployment.spec.replicas, 3);
    assert.equal(deployment.spec.template.spec.topologySpreadConstraints.length, 2);
    // Persistence off by default: no PersistentVolumeClaim templates.
    assert.ok(!JSON.stringify(manifests).includes('volumeClaimTemplates'));
    const persistent = render(
      [],
      ['--set', 'bundledRedis.persistence.enabled=true', '--set', 'bundledBroker.persistence.enabled=true'],
    );
    assert.equal(persistent.filter((m) => JSON.stringify(m).includes('volumeClaimTemplates')).length, 2);
  });

  it('external Redis and broker: one value each switches the bundled ones off', (t) => {
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    const manifests = render([`${chart}/ci/external-values.yaml`]);
    assert.ok(!manifests.some((m) => m.kind === 'StatefulSet'));
    const vars = env(manifests);
    assert.equal(vars.get('OCPP_GW_MQTT_URL'), 'mqtts://emqx.mqtt.svc:8883');
    assert.equal(vars.get('OCPP_GW_REDIS_URL'), 'redis://redis-master.redis.svc:6379');
    // Egress to them: the ci file's extraEgress; without it, open (addresses unknown).
    const policy = (m: Manifest[]) =>
      (
        m.find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === 'gw-ocpp-gateway') as unknown as {
          spec: { egress: unknown[] };
        }
      ).spec.egress;
    assert.ok(policy(manifests).some((r) => JSON.stringify(r).includes('"port":8883')));
    assert.ok(
      !policy(render([])).some((r) => JSON.stringify(r) === '{}'),
      'defaults: egress to DNS, Redis, broker only',
    );
    const open = render([], ['--set', 'bundledBroker.enabled=false', '--set', 'mqtt.url=mqtt://x:1883']);
    assert.ok(policy(open).some((r) => JSON.stringify(r) === '{}'));
    const clash = helm(tool.path, ['template', 'gw', chart, '--set', 'mqtt.url=mqtt://x:1883']);
    assert.notEqual(clash.status, 0);
    assert.match(clash.stderr, /bundledBroker.enabled=false/);
  });

  it('TLS and credential settings render the security variables', (t) => {
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    const tls = env(render([`${chart}/ci/tls-values.yaml`]));
    assert.equal(tls.get('OCPP_GW_TLS_PORT'), '33043');
    assert.equal(tls.get('OCPP_GW_TLS_CERT_FILE'), '/etc/ocpp-gateway/tls/tls.crt');
    assert.equal(tls.get('OCPP_GW_TLS_KEY_FILE'), '/etc/ocpp-gateway/tls/tls.key');
    assert.equal(tls.get('OCPP_GW_AUTH_MODE'), 'basic');
    assert.equal(tls.get('OCPP_GW_AUTH_FILE'), '/etc/ocpp-gateway/auth/credentials');
    assert.equal(tls.get('OCPP_GW_MAX_CONNECTIONS'), '20000');
    const proxy = env(render([`${chart}/ci/proxy-client-cert-values.yaml`]));
    assert.equal(proxy.get('OCPP_GW_AUTH_MODE'), 'client-cert');
    assert.equal(proxy.get('OCPP_GW_CLIENT_CERT_HEADER'), 'X-Client-Cert');
    assert.equal(proxy.get('OCPP_GW_TRUSTED_PROXIES'), '10.0.0.0/8');
    assert.equal(proxy.get('OCPP_GW_AUTH_HTTP_URL'), 'http://credentials.ocpp.svc:8080/verify');
    const plain = env(render([]));
    assert.ok(![...plain.keys()].some((k) => /TLS_PORT|AUTH_|CLIENT_CERT|TRUSTED_PROXIES/.test(k)));
  });

  it('orderKeeping: the subscribe variable on one workload only, a router StatefulSet of 1 beside the gateway pods', (t) => {
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    const on = render([`${chart}/ci/order-keeping-values.yaml`]);
    const subscribing = workloads(on).filter((w) => podEnv(w).has('OCPP_GW_DOWNSTREAM_SUBSCRIBE'));
    assert.deepEqual(
      subscribing.map((w) => [`${w.kind}/${w.metadata.name}`, podEnv(w).get('OCPP_GW_DOWNSTREAM_SUBSCRIBE')]),
      [
        ['Deployment/gw-ocpp-gateway', 'false'],
        ['StatefulSet/gw-ocpp-gateway-router', 'true'],
      ],
    );
    const [gateway, router] = subscribing as [Workload, Workload];
    assert.equal(router.spec.replicas, 1);
    // No pod adopts the router's session: it waits at the broker for the router to return.
    for (const w of subscribing) assert.equal(podEnv(w).get('OCPP_GW_ADOPT_SESSIONS'), 'false');
    // A draining router keeps its subscription and session; the socket pods end theirs.
    assert.equal(podEnv(router).get('OCPP_GW_DRAIN_UNSUBSCRIBE'), 'false');
    assert.equal(podEnv(gateway).has('OCPP_GW_DRAIN_UNSUBSCRIBE'), false);
    assert.deepEqual(podEnv(router).get('OCPP_GW_NODE_ID'), { fieldRef: { fieldPath: 'metadata.name' } });
    const probes = (w: Workload) => {
      const c = w.spec.template.spec.containers[0]!;
      return [c.startupProbe, c.livenessProbe, c.readinessProbe];
    };
    assert.deepEqual(probes(router), probes(gateway));
    assert.ok(probes(router).every((p) => p !== undefined));
    assert.deepEqual(router.spec.template.spec.containers[0]!.resources?.requests, {
      cpu: '1',
      memory: '512Mi',
    });

    // The router's pod is outside every selector of the gateway pods (station Service, internal
    // Service, PDB, Deployment, NetworkPolicy) and inside its own (PDB, headless Service,
    // ServiceMonitor, NetworkPolicy); the bundled Redis and broker admit it.
    const routerLabels = router.spec.template.metadata.labels;
    const gatewayLabels = gateway.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    const selectors = new Map<string, Record<string, string>>();
    for (const m of on) {
      const spec = m.spec as {
        selector?: Record<string, unknown>;
        podSelector?: { matchLabels: Record<string, string> };
      };
      const selector =
        m.kind === 'Service'
          ? (spec.selector as Record<string, string>)
          : m.kind === 'NetworkPolicy'
            ? spec.podSelector!.matchLabels
            : ['PodDisruptionBudget', 'Deployment', 'StatefulSet'].includes(m.kind)
              ? (spec.selector as { matchLabels: Record<string, string> }).matchLabels
              : undefined;
      if (selector !== undefined) selectors.set(`${m.kind}/${m.metadata.name}`, selector);
    }
    const selecting = (labels: Record<string, string>) =>
      [...selectors].filter(([, s]) => matches(s, labels)).map(([name]) => name);
    assert.deepEqual(selecting(routerLabels).sort(), [
      'NetworkPolicy/gw-ocpp-gateway-router',
      'PodDisruptionBudget/gw-ocpp-gateway-router',
      'Service/gw-ocpp-gateway-router',
      'StatefulSet/gw-ocpp-gateway-router',
    ]);
    assert.deepEqual(selecting(gatewayLabels).sort(), [
      'Deployment/gw-ocpp-gateway',
      'NetworkPolicy/gw-ocpp-gateway',
      'PodDisruptionBudget/gw-ocpp-gateway',
      'Service/gw-ocpp-gateway',
      'Service/gw-ocpp-gateway-internal',
    ]);
    const pdb = on.find(
      (m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === 'gw-ocpp-gateway-router',
    );
    assert.equal((pdb?.spec as { maxUnavailable: number }).maxUnavailable, 0);
    const monitor = on.find(
      (m) => m.kind === 'ServiceMonitor' && m.metadata.name === 'gw-ocpp-gateway-router',
    ) as unknown as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: Array<{ port: string; relabelings: unknown[] }>;
      };
    };
    assert.ok(matches(monitor.spec.selector.matchLabels, selectors.get('Service/gw-ocpp-gateway-router')!));
    assert.deepEqual(monitor.spec.endpoints[0]!.relabelings, [
      { targetLabel: 'job', replacement: 'gw-ocpp-gateway-internal' },
    ]);
    for (const component of ['redis', 'mosquitto']) {
      const policy = on.find(
        (m) => m.kind === 'NetworkPolicy' && m.metadata.name === `gw-ocpp-gateway-${component}`,
      );
      const peers = (
        policy?.spec as {
          ingress: Array<{ from: Array<{ podSelector?: { matchLabels: Record<string, string> } }> }>;
        }
      ).ingress[0]!.from.flatMap((p) => (p.podSelector ? [p.podSelector.matchLabels] : []));
      assert.ok(
        peers.some((p) => matches(p, routerLabels)),
        `${component} admits the router`,
      );
      assert.ok(
        peers.some((p) => matches(p, gatewayLabels)),
        `${component} admits the gateway pods`,
      );
    }
    const hpa = on.find((m) => m.kind === 'HorizontalPodAutoscaler') as unknown as {
      spec: { scaleTargetRef: { kind: string } };
    };
    assert.equal(hpa.spec.scaleTargetRef.kind, 'Deployment');

    // Off (the defaults): no workload sets the variable, no router, adoption as redis.adoptSessions.
    const off = render([]);
    assert.deepEqual(
      workloads(off).filter((w) => podEnv(w).has('OCPP_GW_DOWNSTREAM_SUBSCRIBE')),
      [],
    );
    assert.ok(!off.some((m) => m.metadata.name.includes('router')));
    assert.equal(env(off).get('OCPP_GW_ADOPT_SESSIONS'), 'true');
  });

  it('orderKeeping is refused without cluster mode, without persistent sessions, or beside extraEnv of its variables', (t) => {
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    for (const extra of [
      ['--set', 'bundledRedis.enabled=false', '--set', 'replicaCount=1'],
      ['--set', 'mqtt.sessionExpirySeconds=0'],
      ['--set', 'extraEnv[0].name=OCPP_GW_DOWNSTREAM_SUBSCRIBE', '--set-string', 'extraEnv[0].value=true'],
    ]) {
      const run = helm(tool.path, ['template', 'gw', chart, '--set', 'orderKeeping.enabled=true', ...extra]);
      assert.notEqual(run.status, 0, extra.join(' '));
      assert.match(run.stderr, /orderKeeping\.enabled|extraEnv sets/, extra.join(' '));
    }
  });

  it('the bundled mosquitto runs deploy/mosquitto/mosquitto.conf (kept in step)', (t) => {
    const shipped = readFileSync(`${repo}deploy/mosquitto/mosquitto.conf`, 'utf8');
    assert.equal(
      readFileSync(`${chart}/files/mosquitto.conf`, 'utf8'),
      shipped,
      'files/mosquitto.conf differs',
    );
    if (!tool.ok) return t.skip(`not run: ${tool.reason}`);
    const config = render([]).find(
      (m) => m.kind === 'ConfigMap' && m.metadata.name === 'gw-ocpp-gateway-mosquitto',
    ) as unknown as {
      data: Record<string, string>;
    };
    const rendered = config.data['mosquitto.conf']!;
    for (const line of shipped.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')))
      assert.ok(rendered.split('\n').includes(line), `${line} missing from the rendered mosquitto.conf`);
    assert.match(rendered, /^listener 1883 0\.0\.0\.0$/m);
  });

  it('the chart README is generated from the values.yaml comments and up to date', () => {
    // @bitnami/readme-generator-for-helm (a devDependency) rewrites the README it is given: run
    // it on a copy and compare. It also fails when a value has no `## @param` comment.
    const copy = join(mkdtempSync(join(tmpdir(), 'chart-readme-')), 'README.md');
    copyFileSync(`${chart}/README.md`, copy);
    const run = spawnSync(
      process.execPath,
      [
        `${repo}node_modules/@bitnami/readme-generator-for-helm/bin/index.js`,
        '--values',
        `${chart}/values.yaml`,
        '--readme',
        copy,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(
      readFileSync(copy, 'utf8'),
      readFileSync(`${chart}/README.md`, 'utf8'),
      'helm/ocpp-gateway/README.md is out of date: npx readme-generator --values helm/ocpp-gateway/values.yaml --readme helm/ocpp-gateway/README.md',
    );
  });
});
