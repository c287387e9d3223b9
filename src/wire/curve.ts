/**
 * CurveZMQ on a kernel's sockets, the way ipykernel 7.4 and jupyter_client 8.10 agreed on it:
 * the connection file carries the kernel's key pair as `curve_publickey` / `curve_secretkey`
 * (Z85 text), the kernel's sockets are curve servers with that pair, and a client names the
 * server by its public key (`curve_serverkey = curve_publickey`).
 *
 * Our clients bring a fresh key pair of their own rather than reusing the kernel's (which is
 * what jupyter_client does): a curve server without a ZAP handler accepts any client key, so
 * nothing is lost, and a client then needs only the kernel's PUBLIC key. The kernel's secret
 * key is used nowhere but in the kernel.
 */
import { FleetError } from '../shared/errors.js';
import * as zmq from './zmq.js';

/** A CurveZMQ key in Z85 text: 32 bytes as 40 characters of the Z85 alphabet (ZeroMQ RFC 32). */
export const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

/** The curve fields of a connection file, as ConnectionInfo holds them. */
export interface CurveFields {
  curve_publickey?: string;
  curve_secretkey?: string;
}

/** What a curve client socket is given; empty for a kernel without curve keys. */
export type CurveClientOptions = { curveServerKey: string; curvePublicKey: string; curveSecretKey: string } | Record<string, never>;

export function curveAvailable(): boolean {
  return zmq.capability.curve === true;
}

/** A new key pair; throws CURVE_UNAVAILABLE when this zeromq build was made without CURVE. */
export function newCurveKeyPair(): CurveKeyPair {
  requireCurve('a CurveZMQ key pair was asked for');
  return zmq.curveKeyPair();
}

/** Pure: a pair as the connection file's fields. */
export function curveFields(pair: CurveKeyPair): Required<CurveFields> {
  return { curve_publickey: pair.publicKey, curve_secretkey: pair.secretKey };
}

/** Pure: does this connection info ask its clients to use curve? */
export function usesCurve(info: CurveFields): info is Required<CurveFields> {
  return info.curve_publickey !== undefined;
}

/**
 * Socket options for a client of this kernel: curve with a fresh client pair when the kernel
 * has keys, nothing otherwise. One pair per call: callers make one per link, not per message.
 */
export function curveClientOptions(info: CurveFields): CurveClientOptions {
  if (!usesCurve(info)) return {};
  requireCurve('the connection file has CurveZMQ keys (curve_publickey)');
  const own = zmq.curveKeyPair();
  return { curveServerKey: info.curve_publickey, curvePublicKey: own.publicKey, curveSecretKey: own.secretKey };
}

/** What a kernel's socket is given to serve curve with its pair; empty for a connection without keys. Tests and the bench serve as kernels do. */
export function curveServerOptions(info: CurveFields): { curveServer: true; curvePublicKey: string; curveSecretKey: string } | Record<string, never> {
  if (info.curve_publickey === undefined || info.curve_secretkey === undefined) return {};
  requireCurve('the connection file has CurveZMQ keys (curve_secretkey)');
  return { curveServer: true, curvePublicKey: info.curve_publickey, curveSecretKey: info.curve_secretkey };
}

function requireCurve(why: string): void {
  if (curveAvailable()) return;
  throw new FleetError(
    'CURVE_UNAVAILABLE',
    `${why}, but this build of zeromq (${zmq.version}) has no CURVE support (zmq.capability.curve is false); install a zeromq package built with libsodium/CURVE, or turn curve off for this runtime`,
    { zeromq: zmq.version },
  );
}
