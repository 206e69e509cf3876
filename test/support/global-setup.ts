// Runs once per `vitest run`. Nothing global to set up yet beyond checking the PostgreSQL URL:
// each PostgreSQL suite creates and drops its own uniquely named database (test/support/databases.ts).
export default function setup(): void {
  const url = process.env.TEST_DATABASE_URL;
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`TEST_DATABASE_URL must be a postgres:// URL, got '${url}'`);
  }
}
