import type { LocalSessions } from '../cluster/command-router.js';
import type { Session } from './session.js';

/**
 * This node's open sessions by charge-point id. Newest wins (DESIGN §3): `add` returns the
 * session it displaced so the caller can close it; `remove` only removes the exact session it
 * is given, so a replaced session closing late never evicts its successor.
 */
export class SessionTable implements LocalSessions {
  private readonly byId = new Map<string, Session>();

  get size(): number {
    return this.byId.size;
  }

  add(session: Session): Session | undefined {
    const previous = this.byId.get(session.cid);
    this.byId.set(session.cid, session);
    return previous;
  }

  remove(session: Session): boolean {
    if (this.byId.get(session.cid) !== session) return false;
    this.byId.delete(session.cid);
    return true;
  }

  lookup(cid: string): Session | undefined {
    return this.byId.get(cid);
  }

  values(): IterableIterator<Session> {
    return this.byId.values();
  }
}
