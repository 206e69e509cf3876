// A progress line for long runs (`settle jobs run`): a bar when the total is known, counts and the rate. On a
// terminal it redraws one line; otherwise (a log file, CI) it prints a line at most every `everyMs`.
export interface ProgressCounts {
  total: number | null;
  picked: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

const WIDTH = 30;

export function progressLine(c: ProgressCounts, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((c.picked * 1000) / elapsedMs) : 0;
  const counts = `${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${rate}/s`;
  if (c.total === null || c.total === 0) return `${c.picked} processed (${counts})`;
  const done = Math.min(c.picked, c.total);
  const filled = Math.floor((done * WIDTH) / c.total);
  const percent = Math.floor((done * 100) / c.total);
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(percent).padStart(3)}% ${done}/${c.total} (${counts})`;
}

export class ProgressPrinter {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #everyMs: number;
  readonly #started = Date.now();
  #lastPrinted = 0;
  #lastLength = 0;

  constructor(out: NodeJS.WriteStream = process.stdout, everyMs = 5000) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#everyMs = everyMs;
  }

  update(c: ProgressCounts, final = false): void {
    const line = progressLine(c, Date.now() - this.#started);
    if (this.#tty) {
      this.#out.write(`\r${line.padEnd(this.#lastLength)}${final ? '\n' : ''}`);
      this.#lastLength = line.length;
      return;
    }
    if (final || Date.now() - this.#lastPrinted >= this.#everyMs) {
      this.#out.write(`${line}\n`);
      this.#lastPrinted = Date.now();
    }
  }
}
