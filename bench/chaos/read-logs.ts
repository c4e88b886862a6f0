import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ChaosChecker, type ChaosReport } from './checker.js';
import { parseEvent } from './events.js';

/** Feeds every `*.log` of a run directory to a checker, line by line (a million commands fit). */
export async function checkRunDir(dir: string): Promise<{ report: ChaosReport; badLines: number }> {
  const checker = new ChaosChecker();
  let badLines = 0;
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .sort();
  for (const name of files) {
    const lines = createInterface({ input: createReadStream(join(dir, name)), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === '') continue;
      const event = parseEvent(line);
      if (event === undefined) badLines++;
      else checker.add(event);
    }
  }
  return { report: checker.report(), badLines };
}
