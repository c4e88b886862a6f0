import type { Reader } from './env-reader.js';

/**
 * RFC 7692 permessage-deflate, OCPP_GW_COMPRESSION: `off` never negotiates it; `shared` (default)
 * negotiates it with every station that offers it, compressing each message on its own with one
 * compressor and one decompressor for the whole node (no per-socket deflate state, no context
 * takeover); `dedicated` gives each such socket its own 4 KiB-window compressor and decompressor,
 * which keeps context between messages (better ratio, memory per socket). OCPP-J 2.0.1 (Part 4):
 * the CSMS SHALL support RFC 7692, so it is on by default; stations that do not offer it pay nothing.
 */
export const COMPRESSION_MODES = ['off', 'shared', 'dedicated'] as const;

export type CompressionMode = (typeof COMPRESSION_MODES)[number];

export function parseCompression(r: Reader): CompressionMode {
  return r.oneOf('COMPRESSION', COMPRESSION_MODES, 'shared');
}
