import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Unix user gateway processes run as when a test may cut them off (owner match). */
export const CUT_USER = 'ocppgw-cut';

/** Every cut still in place, removed at exit should a test fail before heal(). */
const active = new Set<NetCut>();
process.on('exit', () => {
  for (const cut of active) cut.healSync();
});

/**
 * The uid and gid of {@link CUT_USER}, created (a system user, no home, no shell) when missing.
 * Creating it needs root, as the iptables rules do.
 */
export function cutIdentity(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, CUT_USER]).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', CUT_USER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

let sequence = 0;

/**
 * A silent partition on loopback: every TCP connection that a process of `uid` opens to one of
 * `ports` is marked (conntrack mark, set on its first packet after the cut), and every packet of
 * a marked connection, either way, is dropped. No RST, no FIN: the sockets stay ESTABLISHED on
 * both sides and the data waits in the send queues, as behind a NAT that timed out or a cloud
 * network that lost a route. Rules carry a comment unique to this cut and are removed by
 * {@link heal}, or at process exit.
 */
export class NetCut {
  private readonly mark: string;
  private readonly tag: string;
  private healed = false;

  private constructor(
    readonly uid: number,
    readonly ports: readonly number[],
  ) {
    sequence += 1;
    // A mark per cut and per test process: two cuts never match each other's connections.
    this.mark = `0x${(((process.pid & 0xfff) << 8) | (sequence & 0xff)).toString(16)}`;
    this.tag = `ocpp-gw-cut-${process.pid}-${sequence}`;
  }

  static async cut(uid: number, ports: readonly number[]): Promise<NetCut> {
    if (ports.length === 0 || ports.length > 15) throw new RangeError('1..15 ports (iptables multiport)');
    const cut = new NetCut(uid, ports);
    active.add(cut);
    for (const args of cut.rules('-A')) await run('iptables', args);
    return cut;
  }

  private rules(op: '-A' | '-D'): string[][] {
    const comment = ['-m', 'comment', '--comment', this.tag];
    return [
      [
        ...['-t', 'mangle', op, 'OUTPUT', '-p', 'tcp', '-m', 'owner', '--uid-owner', String(this.uid)],
        ...['-m', 'multiport', '--dports', this.ports.join(','), ...comment],
        ...['-j', 'CONNMARK', '--set-mark', this.mark],
      ],
      ['-t', 'filter', op, 'OUTPUT', '-m', 'connmark', '--mark', this.mark, ...comment, '-j', 'DROP'],
    ];
  }

  /** Removes the rules: the connections carry on where they stopped (TCP retransmits). */
  async heal(): Promise<void> {
    if (this.healed) return;
    this.healed = true;
    active.delete(this);
    for (const args of this.rules('-D')) await run('iptables', args).catch(() => undefined);
  }

  healSync(): void {
    if (this.healed) return;
    this.healed = true;
    for (const args of this.rules('-D')) {
      try {
        execFileSync('iptables', args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}
