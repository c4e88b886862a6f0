// k6 scripts may call CommonJS `require` for built-in modules; @types/k6 does not declare it.
declare function require(id: string): unknown;
// k6 provides a console (its output goes to k6's log); @types/k6 leaves it to the DOM lib.
declare const console: { log(...args: unknown[]): void; warn(...args: unknown[]): void };
