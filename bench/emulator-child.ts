// The emulator in a process of its own, for benchmarks that measure Settle's memory apart from the emulator's
// (payout-reconciliation). Started by `startEmulatorChild` with the parent's loader flags (tsx), it listens on a
// free port with its timeline moved only by the parent's controls (tickMs 0), prints `emulator listening on URL`
// and stops when its parent closes its stdin.
import { startEmulator } from '@settle/stripe-emulator';

const emulator = await startEmulator({ port: 0, tickMs: 0 });
process.stdout.write(`emulator listening on ${emulator.url}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void emulator.close().then(() => process.exit(0));
});
