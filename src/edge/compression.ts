import type { CompressionMode } from '../config/compression.js';

/**
 * uWS's CompressOptions bits (uWebSockets `WebSocketProtocol.h`; its index.d.ts declares them as
 * types only, so the values are spelled here and test/compression.test.ts checks them against the
 * loaded module): the compressor in the low byte, the decompressor in bits 8-11.
 */
export const UWS_COMPRESS_OPTIONS = Object.freeze({
  DISABLED: 0,
  SHARED_COMPRESSOR: 1,
  SHARED_DECOMPRESSOR: 256,
  DEDICATED_COMPRESSOR_4KB: 146,
  DEDICATED_DECOMPRESSOR_4KB: 3072,
});

/**
 * The uWS `compression` option for OCPP_GW_COMPRESSION (src/config/compression.ts). uWS negotiates
 * permessage-deflate only with a client that offers it (RFC 7692 §5); the decompressor bits matter
 * as much as the compressor's: without one a compressed frame from the station cannot be read.
 */
export function uwsCompression(mode: CompressionMode): number {
  const o = UWS_COMPRESS_OPTIONS;
  switch (mode) {
    case 'off':
      return o.DISABLED;
    case 'shared':
      return o.SHARED_COMPRESSOR | o.SHARED_DECOMPRESSOR;
    case 'dedicated':
      return o.DEDICATED_COMPRESSOR_4KB | o.DEDICATED_DECOMPRESSOR_4KB;
    default: {
      const unreachable: never = mode;
      throw new Error(`unknown compression mode ${String(unreachable)}`);
    }
  }
}
