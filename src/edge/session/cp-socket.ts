/**
 * The part of a uWS WebSocket a session uses. uWS's `WebSocket` satisfies it structurally, so
 * sessions hold the uWS handle itself (no wrapper object per connection) while only src/edge/
 * knows it is uWS.
 */
export interface CpSocket {
  /** 0: buffered (backpressure), 1: sent, 2: dropped (over maxBackpressure). */
  send(message: string, isBinary?: boolean, compress?: boolean): number;
  end(code?: number, shortMessage?: string): void;
  cork(cb: () => void): unknown;
}
