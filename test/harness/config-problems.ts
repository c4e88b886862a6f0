import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

/** The variables `loadConfig(env)` names as wrong, sorted; [] when it loads. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.map((p) => p.variable).sort();
  }
}
