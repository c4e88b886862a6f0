/**
 * Limits on the JSON values the gateway parses and may have to encode again: a downstream
 * command re-encoded for the socket, a charge point's CALLERROR details re-encoded for MQTT, a
 * command packed for another node. Both directions apply the same rule, so whatever the gateway
 * accepts it can encode, and it means the same on both sides.
 */

/**
 * Deepest nesting of arrays and objects in a payload (the payload object is level 1). OCPP
 * messages nest under 10 levels; the bound keeps the encoders, which recurse, far from the stack
 * limit (JSON.stringify fails at a few thousand levels, msgpackr earlier).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * `too_deep`: nested beyond {@link MAX_JSON_DEPTH}. `number_out_of_range`: a number beyond the
 * range of an IEEE 754 double (`1e309`), which JSON.parse turns into Infinity and JSON.stringify
 * into `null` (RFC 8259 §6 leaves such numbers to the implementation).
 */
export type JsonProblem = 'too_deep' | 'number_out_of_range';

/**
 * Checks a parsed value against both limits. Iterative, so the check cannot run out of stack
 * itself, and allocation-free for flat payloads: it runs on every frame (about a tenth of the
 * cost of JSON.parse on a MeterValues payload).
 */
export function jsonProblem(value: unknown): JsonProblem | undefined {
  if (typeof value !== 'object' || value === null) return scalarProblem(value);
  // (container, depth) pairs still to visit, flat; made only once a container holds another.
  let pending: unknown[] | undefined;
  let container: object = value;
  let depth = 1;
  for (;;) {
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const child: unknown = container[i];
        const found = classify(child, depth);
        if (found === NESTED) (pending ??= []).push(child, depth + 1);
        else if (found !== undefined) return found;
      }
    } else {
      // for-in, not Object.values: no array per object (JSON.parse makes only own keys).
      const record = container as Record<string, unknown>;
      for (const key in record) {
        const child = record[key];
        const found = classify(child, depth);
        if (found === NESTED) (pending ??= []).push(child, depth + 1);
        else if (found !== undefined) return found;
      }
    }
    if (pending === undefined || pending.length === 0) return undefined;
    depth = pending.pop() as number;
    container = pending.pop() as object;
  }
}

const NESTED = 'nested';

/** A child at `depth`: fine (undefined), a container to visit, or a problem. */
function classify(child: unknown, depth: number): JsonProblem | typeof NESTED | undefined {
  if (typeof child !== 'object' || child === null) return scalarProblem(child);
  return depth >= MAX_JSON_DEPTH ? 'too_deep' : NESTED;
}

function scalarProblem(value: unknown): JsonProblem | undefined {
  return typeof value === 'number' && !Number.isFinite(value) ? 'number_out_of_range' : undefined;
}
