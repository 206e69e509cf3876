// Opaque ids with a type prefix that is never one of Stripe's. The body is time-ordered
// (milliseconds) followed by 80 random bits, so ids sort by creation and pagination by id is stable.
import { randomBytes } from 'node:crypto';

export const ID_PREFIXES = {
  transaction: 'trx',
  payment_method: 'pmt',
  account: 'acc',
  contact: 'con',
  gateway: 'gw',
  gateway_log: 'glog',
  gateway_attempt: 'gatt',
  webhook_event: 'whe',
  dispute: 'dsp',
  job_run: 'jrun',
  api_key: 'key',
  audit_event: 'aud',
  sync_run: 'syn',
  payout_item: 'rcn',
  balance_snapshot: 'bsn',
  connected_account: 'cac',
  parent: 'par',
  invoice: 'inv',
  allocation: 'alc',
  payment_schedule: 'sch',
  order: 'ord',
  order_payment_summary: 'ops',
  order_payment_record: 'opr',
  user: 'usr',
  session: 'ses',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

function encodeBase36(value: bigint, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i += 1) {
    out = ALPHABET[Number(rest % 36n)] + out;
    rest /= 36n;
  }
  return out;
}

let lastMs = -1;
let lastRandom = 0n;

/**
 * Monotonic within a process: an id made in the same millisecond as the previous one (or with a clock
 * that went back) reuses that time and increments the random part, so ids always sort in creation order.
 */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  let random: bigint;
  if (nowMs <= lastMs) {
    nowMs = lastMs;
    random = lastRandom + 1n;
  } else {
    random = BigInt(`0x${randomBytes(10).toString('hex')}`);
  }
  lastMs = nowMs;
  lastRandom = random;
  return `${ID_PREFIXES[kind]}_${encodeBase36(BigInt(nowMs), 10)}${encodeBase36(random, 16)}`;
}
