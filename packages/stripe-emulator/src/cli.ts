// The stripe-emulator command (bin/stripe-emulator.js runs the compiled copy): starts the emulator on a port until
// SIGINT or SIGTERM, optionally keeping its state in a JSON file.
//   stripe-emulator [--port N] [--host ADDRESS] [--state FILE] [--rate-limit] [--settlement-currency CUR]
import { parseArgs } from 'node:util';
import { SETTLEMENT_CURRENCIES } from './fx.js';
import { startEmulator } from './index.js';

const USAGE = `Usage: stripe-emulator [--port N] [--host ADDRESS] [--state FILE] [--rate-limit] [--settlement-currency CUR]
  --port N          port to listen on (default 12111; 0 picks a free port)
  --host ADDRESS    address to listen on (default 127.0.0.1)
  --state FILE      keep objects, events and webhook endpoints in this JSON file (default: memory only)
  --rate-limit      answer 429 as Stripe's test mode does past 25 requests/s, globally and per endpoint
  --settlement-currency CUR
                    the account's settlement currency (${SETTLEMENT_CURRENCIES.join(', ')}; default usd)`;

export interface CliOptions {
  port: number;
  host: string;
  stateFile?: string;
  rateLimit?: boolean;
  settlementCurrency?: string;
}

/** Reads the command line; throws an Error whose message says what is wrong. Returns null for --help. */
export function parseCli(argv: readonly string[]): CliOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string', short: 'p', default: '12111' },
      host: { type: 'string', default: '127.0.0.1' },
      state: { type: 'string' },
      'rate-limit': { type: 'boolean' },
      'settlement-currency': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535)
    throw new Error(`--port takes a port number from 0 to 65535, not '${values.port}'`);
  const currency = values['settlement-currency']?.toLowerCase();
  if (currency !== undefined && !SETTLEMENT_CURRENCIES.includes(currency))
    throw new Error(
      `--settlement-currency takes one of ${SETTLEMENT_CURRENCIES.join(', ')}, not '${values['settlement-currency']}'`,
    );
  return {
    port: Number(values.port),
    host: values.host,
    ...(values.state === undefined ? {} : { stateFile: values.state }),
    ...(values['rate-limit'] === true ? { rateLimit: true } : {}),
    ...(currency === undefined ? {} : { settlementCurrency: currency }),
  };
}

export async function runCli(argv: readonly string[]): Promise<void> {
  let options: CliOptions | null;
  try {
    options = parseCli(argv);
  } catch (error) {
    console.error(`stripe-emulator: ${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === null) {
    console.log(USAGE);
    return;
  }
  const emulator = await startEmulator({
    port: options.port,
    host: options.host,
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    ...(options.rateLimit ? { rateLimit: true } : {}),
    ...(options.settlementCurrency ? { settlementCurrency: options.settlementCurrency } : {}),
  });
  console.log(`Stripe emulator listening on ${emulator.url}`);
  console.log(
    `  use any key starting sk_test_, e.g. new Stripe('sk_test_x', { host: '${options.host}', port: ${emulator.port}, protocol: 'http' })`,
  );
  const stop = () => void emulator.close().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
