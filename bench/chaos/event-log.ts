import { appendFileSync } from 'node:fs';
import { formatEvent, type ChaosEvent } from './events.js';

/**
 * An append-only event log: lines gathered in memory and written every 50 ms in one call, so
 * that tens of thousands of events per second cost a few writes, not one each.
 */
export class EventLog {
  private buffer: string[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string) {
    this.timer = setInterval(() => this.flush(), 50);
  }

  add(event: ChaosEvent): void {
    this.buffer.push(formatEvent(event));
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    appendFileSync(this.file, text);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
