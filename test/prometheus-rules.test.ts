import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// promtool check rules / test rules on the shipped rules, and the chart's copies kept in step.

const repo = fileURLToPath(new URL('../..', import.meta.url));
const promtool = spawnSync('promtool', ['--version']).status === 0;
const skip = promtool ? false : 'not run: no promtool (apt-get install prometheus)';

describe('alert rules', () => {
  it('promtool check rules', { skip }, () => {
    const run = spawnSync('promtool', ['check', 'rules', 'deploy/prometheus/ocpp-gateway-rules.yml'], {
      cwd: repo,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });

  it('promtool test rules', { skip }, () => {
    const run = spawnSync('promtool', ['test', 'rules', 'ocpp-gateway-rules.test.yml'], {
      cwd: `${repo}deploy/prometheus`,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });

  it('the chart ships the same rules and dashboard as deploy/', () => {
    for (const [a, b] of [
      ['deploy/prometheus/ocpp-gateway-rules.yml', 'helm/ocpp-gateway/files/ocpp-gateway-rules.yml'],
      ['deploy/grafana/ocpp-gateway-dashboard.json', 'helm/ocpp-gateway/files/ocpp-gateway-dashboard.json'],
    ])
      assert.equal(
        readFileSync(`${repo}${b}`, 'utf8'),
        readFileSync(`${repo}${a}`, 'utf8'),
        `${b} differs from ${a}`,
      );
  });
});
