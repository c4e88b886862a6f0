import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// From dist/test/unit/ back to the repository's scripts/.
const SCRIPT = fileURLToPath(new URL('../../../scripts/check-import-cycles.mjs', import.meta.url));

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (path under src/ -> source) into a fresh temp dir; returns that dir. */
function tree(files: Record<string, string>, allowed?: { folders: string[]; files: string[] }): string {
  const dir = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  dirs.push(dir);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'src', path)), { recursive: true });
    writeFileSync(join(dir, 'src', path), source);
  }
  if (allowed !== undefined) writeFileSync(join(dir, 'allowed.json'), JSON.stringify(allowed));
  return dir;
}

function check(dir: string): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [SCRIPT, join(dir, 'src'), '--allow', join(dir, 'allowed.json')], {
    encoding: 'utf8',
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

// a/x.ts -> b/y.ts (value import) -> a/x.ts (type-only import over several lines).
const CYCLE = {
  'a/x.ts': "import { y } from '../b/y.js';\nexport const x = y + 1;\n",
  'b/y.ts': "import type {\n  X,\n} from '../a/x.js';\nexport const y = 1;\nexport type Y = X;\n",
};

describe('scripts/check-import-cycles.mjs', () => {
  it('fails with exit 1 on a cycle and prints it at folder and file level', () => {
    const result = check(tree(CYCLE));
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /between folders[^\n]*\n {2}a -> b -> a\n/);
    assert.match(result.stderr, /b -> a: b\/y\.ts imports a\/x\.ts/);
    assert.match(result.stderr, /between files[^\n]*\n {2}a\/x\.ts -> b\/y\.ts -> a\/x\.ts\n/);
  });

  it('passes with exit 0 on an acyclic tree', () => {
    const result = check(
      tree({
        'a/x.ts': "import { y } from '../b/y.js';\nexport * from '../b/z.js';\nexport const x = y;\n",
        'b/y.ts':
          "// import { x } from '../a/x.js' would be a cycle: a comment is not an import\nexport const y = 1;\n",
        'b/z.ts': "/**\n * import { x } from '../a/x.js';\n */\nexport const z = 2;\n",
        'main.ts': "import { x } from './a/x.js';\nconsole.log(x);\n",
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /4 files in 3 folders, no cycle/);
  });

  it('counts each file directly in the root as a unit of its own', () => {
    const layered = check(
      tree({
        'main.ts': "import { x } from './a/x.js';\nconsole.log(x);\n",
        'errors.ts': 'export class GwError extends Error {}\n',
        'a/x.ts': "export { GwError } from '../errors.js';\nexport const x = 1;\n",
      }),
    );
    assert.equal(layered.code, 0, 'main.ts above a/, errors.ts below it: no cycle');
    const tangled = check(
      tree({
        'errors.ts':
          "import { x } from './a/x.js';\nexport class GwError extends Error {}\nconsole.log(x);\n",
        'a/x.ts': "export { GwError } from '../errors.js';\nexport const x = 1;\n",
      }),
    );
    assert.equal(tangled.code, 1);
    assert.match(tangled.stderr, /between folders[^\n]*\n {2}a -> src\/errors.ts -> a\n/);
  });

  it('accepts the cycles the allow-list names, and only those', () => {
    const allowed = { folders: ['a -> b -> a'], files: ['a/x.ts -> b/y.ts -> a/x.ts'] };
    assert.equal(check(tree(CYCLE, allowed)).code, 0);

    const another = check(
      tree({ ...CYCLE, 'b/w.ts': "import '../c/v.js';\n", 'c/v.ts': "import '../b/w.js';\n" }, allowed),
    );
    assert.equal(another.code, 1);
    assert.match(another.stderr, /\n {2}b -> c -> b\n/);
    assert.match(another.stderr, /\n {2}b\/w\.ts -> c\/v\.ts -> b\/w\.ts\n/);
    assert.doesNotMatch(another.stderr, /\n {2}a -> b -> a\n/, 'an allowed cycle is not reported');
  });

  it('fails when an allowed cycle is gone, so the list only shrinks', () => {
    const result = check(
      tree({ 'a/x.ts': 'export const x = 1;\n' }, { folders: ['a -> b -> a'], files: [] }),
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no longer found[^\n]*\n {2}a -> b -> a\n/);
  });

  it('fails on a relative import that names no file', () => {
    const result = check(tree({ 'a/x.ts': "import { gone } from './gone.js';\nexport const x = gone;\n" }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /a\/x\.ts: '\.\/gone\.js'/);
  });
});
