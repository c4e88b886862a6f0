/** What a presence event says about a session. */
export interface PresenceSource {
  readonly cid: string;
  readonly username: string | undefined;
  readonly remoteAddress: string;
  readonly protoVer: string;
  readonly keepaliveS: number;
  readonly connectedAt: number;
}

/**
 * Presence event body: the fields of EMQX's `$SYS/.../clients/{cid}/connected|disconnected`
 * message (docs/architecture.md §2.8; topic choice §7.14) plus the node id. Published for every close, server-side ones too.
 */
export function presenceBody(
  session: PresenceSource,
  nodeId: string,
  closed?: { reason: string; code: number; at: number },
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    clientid: session.cid,
    username: session.username ?? null,
    ipaddress: session.remoteAddress,
    protocol: 'ocpp',
    proto_name: 'OCPP',
    proto_ver: session.protoVer,
    keepalive: session.keepaliveS,
    connected_at: session.connectedAt,
    node: nodeId,
  };
  if (closed !== undefined) {
    body.disconnected_at = closed.at;
    body.reason = closed.reason;
    body.close_code = closed.code;
  }
  return body;
}
