import type { ConfigProblem } from '../errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[`OCPP_GW_${name}`];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  private problem(name: string, problem: string): void {
    this.problems.push({ variable: `OCPP_GW_${name}`, value: this.env[`OCPP_GW_${name}`], problem });
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      this.problem(name, `must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1' || raw === 'yes') return true;
    if (raw === 'false' || raw === '0' || raw === 'no') return false;
    this.problem(name, 'must be true or false');
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problem(name, `must be one of ${allowed.join(', ')}`);
    return fallback;
  }

  url(name: string, schemes: readonly string[]): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (!schemes.includes(url.protocol.replace(/:$/, ''))) {
        this.problem(name, `scheme must be one of ${schemes.join(', ')}`);
      }
    } catch {
      this.problem(name, 'is not a valid URL');
    }
    return raw;
  }

  template(name: string, fallback: string, placeholders: readonly string[]): string {
    const value = this.string(name, fallback);
    for (const match of value.matchAll(/\$\{([^}]*)\}/g)) {
      if (!placeholders.includes(match[1] ?? '')) {
        this.problem(name, `unknown placeholder \${${match[1]}}; allowed: ${placeholders.join(', ')}`);
      }
    }
    if (value.includes('\0')) this.problem(name, 'must not contain NUL');
    return value;
  }

  fail(name: string, problem: string): void {
    this.problem(name, problem);
  }
}
