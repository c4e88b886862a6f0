import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CACHE_DIR } from './helm.js';

/**
 * Validators generated (ajv, standalone) from the Kubernetes OpenAPI schemas, as shipped by the
 * npm package kubernetes-models (core API groups) and @kubernetes-models/prometheus-operator
 * (ServiceMonitor, PrometheusRule), installed into a cache directory at test time.
 */

export const MODEL_PACKAGES = ['kubernetes-models@5.1.0', '@kubernetes-models/prometheus-operator@6.0.0'];

export type Validator = (manifest: { apiVersion: string; kind: string }) => Promise<string | undefined>;

export function loadValidator(): { ok: true; validate: Validator } | { ok: false; reason: string } {
  const dir = join(CACHE_DIR, 'kubernetes-models-5.1.0');
  const root = join(dir, 'node_modules');
  if (!existsSync(join(root, 'kubernetes-models/package.json'))) {
    try {
      mkdirSync(dir, { recursive: true });
      const args = ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', dir];
      execFileSync('npm', [...args, ...MODEL_PACKAGES], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 300_000,
      });
    } catch (err) {
      return { ok: false, reason: `cannot install ${MODEL_PACKAGES.join(' ')}: ${(err as Error).message}` };
    }
  }
  const validate: Validator = async (manifest) => {
    const slash = manifest.apiVersion.indexOf('/');
    const group = slash < 0 ? '' : manifest.apiVersion.slice(0, slash);
    const version = manifest.apiVersion.slice(slash + 1);
    const pkg =
      group === 'monitoring.coreos.com' ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
    const file = join(root, pkg, group === '' ? version : `${group}/${version}`, `${manifest.kind}.js`);
    if (!existsSync(file)) return `no schema for ${manifest.apiVersion} ${manifest.kind}`;
    const mod = (await import(pathToFileURL(file).href)) as Record<
      string,
      new (data: unknown) => { validate(): void }
    >;
    try {
      const Model = mod[manifest.kind];
      if (Model === undefined) return `no model ${manifest.kind} in ${file}`;
      new Model(manifest).validate();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
  return { ok: true, validate };
}
