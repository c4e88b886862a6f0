import { readFileSync } from 'node:fs';
import type { Reader } from './env-reader.js';

/**
 * A secret from `OCPP_GW_{name}` or from the file named by `OCPP_GW_{name}_FILE` (a Kubernetes
 * Secret mounted as a file keeps it out of the pod spec and `ps e`). One trailing newline is
 * dropped, as `echo` and `kubectl create secret --from-file` leave one. Both set is a config error.
 */
export function secret(r: Reader, name: string): string | undefined {
  const inline = r.raw(name);
  const file = r.raw(`${name}_FILE`);
  if (file === undefined) return inline;
  if (inline !== undefined) {
    r.fail(`${name}_FILE`, `set either OCPP_GW_${name} or OCPP_GW_${name}_FILE, not both`);
    return inline;
  }
  const text = readText(r, `${name}_FILE`, file);
  if (text === undefined) return undefined;
  const value = text.replace(/\r?\n$/, '');
  if (value === '') r.fail(`${name}_FILE`, `${file} is empty`);
  return value === '' ? undefined : value;
}

/** The PEM text of the file named by `OCPP_GW_{name}`, or undefined when unset. */
export function pemFile(r: Reader, name: string): string | undefined {
  const file = r.raw(name);
  if (file === undefined) return undefined;
  const text = readText(r, name, file);
  if (text !== undefined && !text.includes('-----BEGIN ')) r.fail(name, `${file} holds no PEM block`);
  return text;
}

function readText(r: Reader, name: string, file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    r.fail(name, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return undefined;
  }
}
