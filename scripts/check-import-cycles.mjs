// Fails when src/ has an import cycle that the allow-list does not name: between folders
// (src/ocpp, src/edge, ...; a file directly in src/ is a unit of its own: the entry point sits above
// every folder and the error catalogue below them, which one `src` node would tie into cycles) and
// between files.
// Type-only imports count: a cycle of types still ties two folders together.
//
// usage: node scripts/check-import-cycles.mjs [root=src] [--allow file=scripts/import-cycles-allowed.json] [--list]
// --list prints every cycle found as the allow-list's JSON and exits 0 (to review, not to paste blindly).
// Exit 0: no cycle outside the allow-list. Exit 1: a new cycle, or an allowed one that is gone
// (remove it from the list, so it cannot come back unnoticed). Exit 2: bad usage or input.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

// Enumerating elementary cycles is exponential in the worst case; a tree this tangled needs no list.
const MAX_CYCLES = 10_000;
// One new import can close hundreds of cycles through a hub file; the shortest few show where it is.
const MAX_PRINTED = 10;

function parseArgs(argv) {
  let root = 'src';
  let allowFile = join('scripts', 'import-cycles-allowed.json');
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--list') list = true;
    else if (argv[i] === '--allow') {
      allowFile = argv[++i];
      if (allowFile === undefined) usage('--allow needs a file');
    } else root = argv[i];
  }
  if (!existsSync(root) || !statSync(root).isDirectory()) usage(`${root} is not a directory`);
  return { root: resolve(root), allowFile, list };
}

function usage(problem) {
  console.error(`check-import-cycles: ${problem}`);
  process.exit(2);
}

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

// `import x from`, `import type { X } from`, `import './side-effect.js'`, `export * from`,
// `export { a } from`, `export type { T } from`, over several lines; block comments removed first
// so an example in a JSDoc block is not read as an import.
const IMPORT = /^[ \t]*(?:import|export)\b(?:[^'";]*?\bfrom)?[ \t]*['"]([^'"]+)['"]/gm;

function specifiers(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '');
  return [...code.matchAll(IMPORT)].map((match) => match[1]);
}

/** The .ts file a relative specifier names (NodeNext: `./x.js` is `./x.ts`), or undefined. */
function resolveSpecifier(fromFile, specifier) {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts'), base];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c) && statSync(c).isFile());
}

function buildGraphs(root) {
  const rootName = basename(root);
  const fileOf = (path) => relative(root, path).split(sep).join('/');
  const folderOf = (path) => {
    const parts = relative(root, path).split(sep);
    return parts.length > 1 ? parts[0] : `${rootName}/${parts[0]}`;
  };
  const files = new Map();
  const folders = new Map();
  // For each folder edge, one import that makes it, to show where a cycle can be cut.
  const folderWitness = new Map();
  const unresolved = [];
  for (const path of tsFiles(root).sort()) {
    const from = fileOf(path);
    if (!files.has(from)) files.set(from, new Set());
    if (!folders.has(folderOf(path))) folders.set(folderOf(path), new Set());
    for (const specifier of specifiers(readFileSync(path, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveSpecifier(path, specifier);
      if (target === undefined) {
        unresolved.push(`${from}: '${specifier}'`);
        continue;
      }
      if (!target.startsWith(root + sep)) continue;
      files.get(from).add(fileOf(target));
      const [a, b] = [folderOf(path), folderOf(target)];
      if (a === b) continue;
      folders.get(a).add(b);
      if (!folderWitness.has(`${a} -> ${b}`))
        folderWitness.set(`${a} -> ${b}`, `${from} imports ${fileOf(target)}`);
    }
  }
  return { files, folders, folderWitness, unresolved };
}

/** Strongly connected components (Tarjan): a cycle never leaves the component it starts in. */
function components(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const componentOf = new Map();
  let counter = 0;
  const visit = (node) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node), index.get(next)));
    }
    if (low.get(node) !== index.get(node)) return;
    for (;;) {
      const member = stack.pop();
      onStack.delete(member);
      componentOf.set(member, node);
      if (member === node) break;
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return componentOf;
}

/**
 * Every elementary cycle of `graph`, each written from its smallest node so it is found once and
 * reads the same every run. Depth-first within one component, so acyclic parts cost nothing.
 */
function elementaryCycles(graph) {
  const componentOf = components(graph);
  const nodes = [...graph.keys()].sort();
  const cycles = [];
  for (const [position, start] of nodes.entries()) {
    const allowed = new Set(
      nodes.slice(position).filter((n) => componentOf.get(n) === componentOf.get(start)),
    );
    if (allowed.size < 2) continue;
    const path = [start];
    const onPath = new Set(path);
    const walk = (node) => {
      for (const next of [...(graph.get(node) ?? [])].sort()) {
        if (cycles.length >= MAX_CYCLES) return;
        if (next === start) cycles.push([...path]);
        else if (allowed.has(next) && !onPath.has(next)) {
          path.push(next);
          onPath.add(next);
          walk(next);
          onPath.delete(next);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return cycles;
}

const show = (cycle) => [...cycle, cycle[0]].join(' -> ');

function readAllowList(file) {
  if (!existsSync(file)) return { folders: [], files: [] };
  const list = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(list.folders) || !Array.isArray(list.files))
    usage(`${file} must hold { "folders": [...], "files": [...] }`);
  return list;
}

const { root, allowFile, list } = parseArgs(process.argv.slice(2));
const { files, folders, folderWitness, unresolved } = buildGraphs(root);
if (list) {
  const found = { folders: elementaryCycles(folders).map(show), files: elementaryCycles(files).map(show) };
  console.log(JSON.stringify(found, null, 2));
  process.exit(0);
}
const allow = readAllowList(allowFile);
let failed = false;

if (unresolved.length > 0) {
  failed = true;
  console.error(`Relative imports that name no file under ${relative(process.cwd(), root) || '.'}:`);
  for (const line of unresolved) console.error(`  ${line}`);
}

for (const [kind, graph] of [
  ['folders', folders],
  ['files', files],
]) {
  const found = elementaryCycles(graph).map(show);
  if (found.length >= MAX_CYCLES) console.error(`more than ${MAX_CYCLES} ${kind} cycles; listing the first`);
  const fresh = found.filter((cycle) => !allow[kind].includes(cycle));
  const gone = allow[kind].filter((cycle) => !found.includes(cycle));
  if (fresh.length > 0) {
    failed = true;
    console.error(
      `${fresh.length} import cycle${fresh.length > 1 ? 's' : ''} between ${kind} (not in ${allowFile}):`,
    );
    const shortestFirst = [...fresh].sort((a, b) => a.split(' -> ').length - b.split(' -> ').length);
    if (fresh.length > MAX_PRINTED) console.error(`  (the ${MAX_PRINTED} shortest)`);
    for (const cycle of shortestFirst.slice(0, MAX_PRINTED)) {
      console.error(`  ${cycle}`);
      if (kind !== 'folders') continue;
      const steps = cycle.split(' -> ');
      for (let i = 0; i + 1 < steps.length; i++)
        console.error(
          `      ${steps[i]} -> ${steps[i + 1]}: ${folderWitness.get(`${steps[i]} -> ${steps[i + 1]}`)}`,
        );
    }
  }
  if (gone.length > 0) {
    failed = true;
    console.error(
      `Allowed ${kind} cycle${gone.length > 1 ? 's' : ''} no longer found; remove from ${allowFile}:`,
    );
    for (const cycle of gone) console.error(`  ${cycle}`);
  }
}

if (failed) process.exit(1);
console.log(
  `check-import-cycles: ${files.size} files in ${folders.size} folders, no cycle outside the allow-list`,
);
