// Console passwords (X3): scrypt (node:crypto), stored as `scrypt$N$r$p$salt$hash` (base64url), so the cost can be
// raised later and old hashes still verify. Verification compares in constant time. Generated passwords are 24
// characters of base64url from 18 random bytes (144 bits).
import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

/**
 * scrypt cost: N = 2^17, r = 8, p = 1, the minimum the OWASP Password Storage Cheat Sheet gives for scrypt. One hash
 * takes about 470 ms on the 2-vCPU VM of docs/PERFORMANCE.md and 128 MiB of memory (N x r x 128 bytes).
 */
const COST = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
/** Node's default maxmem (32 MiB) is below what the cost needs; a stored hash may not ask for more than this. */
const MAX_MEM = 256 * 1024 * 1024;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...options, maxmem: MAX_MEM }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches `stored`; false for a wrong password and for a stored value of another shape. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (!Number.isSafeInteger(N) || !Number.isSafeInteger(r) || !Number.isSafeInteger(p)) return false;
  if (N! < 2 || N! > 2 ** 20 || r! < 1 || r! > 32 || p! < 1 || p! > 16) return false;
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length !== KEY_LENGTH) return false;
  const key = await derive(password, Buffer.from(parts[4]!, 'base64url'), { N: N!, r: r!, p: p! });
  return timingSafeEqual(key, expected);
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
