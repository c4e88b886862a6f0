// One concern per file: no source file under src/ over MAX_LINES lines (checked in `npm run lint`).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LINES = 250;

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

const over = [];
for (const path of sources('src')) {
  const lines = readFileSync(path, 'utf8').split('\n').length - 1;
  if (lines > MAX_LINES) over.push(`${path}: ${lines} lines`);
}
if (over.length > 0) {
  console.error(`files over ${MAX_LINES} lines (split them by concern):\n${over.join('\n')}`);
  process.exit(1);
}
