import type { Session } from './session.js';

/** The sessions of this node, as the command router sees them: the local owner of a charge point. */
export interface LocalSessions {
  lookup(cid: string): Session | undefined;
}

/** Told when this node gains or loses a charge point (the ownership registry, docs/architecture.md §5.2). */
export interface OwnershipHooks {
  owned(session: Session): void;
  released(session: Session): void;
}

/**
 * This node's open sessions by charge-point id. Newest wins (docs/architecture.md §3.8): `add` returns the
 * session it displaced so the caller can close it; `remove` only removes the exact session it
 * is given, so a replaced session closing late never evicts its successor (nor releases its
 * ownership: the successor's claim already overwrote it).
 */
export class SessionTable implements LocalSessions {
  private readonly byId = new Map<string, Session>();
  private hooks: OwnershipHooks | undefined;

  get size(): number {
    return this.byId.size;
  }

  /** Set once at start-up, before the listener opens. */
  setHooks(hooks: OwnershipHooks): void {
    this.hooks = hooks;
  }

  add(session: Session): Session | undefined {
    const previous = this.byId.get(session.cid);
    this.byId.set(session.cid, session);
    this.hooks?.owned(session);
    return previous;
  }

  remove(session: Session): boolean {
    if (this.byId.get(session.cid) !== session) return false;
    this.byId.delete(session.cid);
    this.hooks?.released(session);
    return true;
  }

  lookup(cid: string): Session | undefined {
    return this.byId.get(cid);
  }

  values(): IterableIterator<Session> {
    return this.byId.values();
  }
}
