// The dashboard: the five reports of GET /v1/reports/{name}, each in a card. Revenue by month and what is due in the
// next seven days are bar charts, one per currency (a report never adds two currencies' amounts), each with its
// figures as a table for assistive technology and behind a "Show as table" toggle; the others are tables. Each card
// downloads its report as CSV (the same GET with Accept: text/csv, saved from a Blob: a plain link would not send
// what the API needs). Amounts are integer minor units throughout.
import {
  Anchor,
  Button,
  Card,
  Group,
  Loader,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError, request } from '../../api';
import { DateTime, ErrorNotice, Money, StatusBadge, useResource } from '../../components/data';
import { ReportChart } from './ReportChart';

type Cell = string | number | null;
type Row = Record<string, Cell>;

interface Report<R extends Row = Row> {
  object: 'report';
  name: string;
  timezone: string;
  /** Today in `timezone` when the report was made. */
  date: string;
  generated_at: string;
  data: R[];
}

interface RevenueRow extends Row {
  month: string;
  currency: string;
  captured_amount: number;
  refunded_amount: number;
  net_amount: number;
  count: number;
  refund_count: number;
}

interface FailedRow extends Row {
  id: string;
  record_type: string;
  transaction_type: string;
  amount: number;
  currency: string;
  error_code: string | null;
  decline_code: string | null;
  error_message: string | null;
  account_id: string | null;
  payment_method_id: string | null;
  failed_at: string;
}

interface DueRow extends Row {
  due_date: string;
  currency: string;
  count: number;
  amount: number;
}

interface ToFixRow extends Row {
  code: string;
  message: string;
  count: number;
}

interface PayoutRow extends Row {
  id: string;
  amount: number;
  currency: string;
  arrival_date: string | null;
  status: string;
  reconciliation_status: string | null;
  items_count: number | null;
  items_total: number | null;
  unmatched_count: number | null;
}

/** How many rows of a table report the card shows (the report itself may hold more: the CSV has them all). */
const SHOWN_ROWS = 50;

const COLORS = { captured: '#1864ab', refunded: '#c92a2a', net: '#2b8a3e', due: '#5f3dc4' };

/** The currencies of `rows` in order of first appearance. */
function currenciesOf(rows: readonly { currency: string }[]): string[] {
  return [...new Set(rows.map((row) => row.currency))];
}

/** The day `n` days after `day` (YYYY-MM-DD, calendar arithmetic in UTC: no time zone involved). */
function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The report as the API's CSV, saved as the API names it (`<name>-<the report's day>.csv`). */
async function downloadCsv(name: string, date: string | undefined): Promise<void> {
  const answer = await request<string>('GET', `/v1/reports/${name}`, { accept: 'text/csv' });
  const blob = new Blob([answer.data], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `${name}-${date ?? new Date().toISOString().slice(0, 10)}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function CsvButton({ name, title, date }: { name: string; title: string; date: string | undefined }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  return (
    <Stack gap={4} align="flex-end">
      <Button
        size="compact-sm"
        variant="default"
        loading={busy}
        onClick={() => {
          setBusy(true);
          setError(undefined);
          downloadCsv(name, date)
            .catch((failure: unknown) =>
              setError(failure instanceof ApiError ? failure : new ApiError(0, undefined, String(failure))),
            )
            .finally(() => setBusy(false));
        }}
      >
        Download CSV
        <VisuallyHidden>: {title}</VisuallyHidden>
      </Button>
      {error ? <ErrorNotice error={error} title="The CSV could not be downloaded" /> : null}
    </Stack>
  );
}

/** One report's card: its heading, the CSV download, and what `children` makes of its rows once loaded. */
function ReportCard<R extends Row>({
  name,
  title,
  description,
  testId,
  onLoaded,
  children,
}: {
  name: string;
  title: string;
  description: string;
  testId: string;
  onLoaded?: (report: Report<R>) => void;
  children: (report: Report<R>) => ReactNode;
}) {
  const report = useResource<Report<R>>(`/v1/reports/${name}`);
  const headingId = `report-${name}`;
  const loaded = report.data;
  useEffect(() => {
    if (loaded) onLoaded?.(loaded);
  }, [loaded, onLoaded]);
  return (
    <Card withBorder padding="md" component="section" aria-labelledby={headingId} data-testid={testId}>
      <Group justify="space-between" align="flex-start" mb="xs" wrap="nowrap">
        <div>
          <Title order={2} size="h4" id={headingId}>
            {title}
          </Title>
          <Text size="sm" c="dark.6">
            {description}
          </Text>
        </div>
        <CsvButton name={name} title={title} date={report.data?.date} />
      </Group>
      {report.error ? <ErrorNotice error={report.error} title={`${title} could not be loaded`} /> : null}
      {report.data ? (
        children(report.data)
      ) : report.loading ? (
        <Group justify="center" p="md">
          <Loader size="sm" aria-label={`Loading ${title}`} />
        </Group>
      ) : null}
    </Card>
  );
}

function Empty({ children }: { children: ReactNode }) {
  return (
    <Text size="sm" c="dark.6" py="sm">
      {children}
    </Text>
  );
}

function MoreRows({ shown, total, children }: { shown: number; total: number; children?: ReactNode }) {
  if (total <= shown) return null;
  return (
    <Text size="sm" c="dark.6" mt="xs">
      The first {shown} of {total} rows are shown; the CSV has them all.{children ? ' ' : ''}
      {children}
    </Text>
  );
}

function RevenueByMonth({ report }: { report: Report<RevenueRow> }) {
  if (report.data.length === 0) return <Empty>No captured charges yet.</Empty>;
  return (
    <Stack gap="md">
      {currenciesOf(report.data).map((currency) => {
        const rows = report.data.filter((row) => row.currency === currency);
        const code = currency.toUpperCase();
        return (
          <div key={currency}>
            <Title order={3} size="h5">
              {code}
            </Title>
            <ReportChart
              title={`Revenue by month in ${code}`}
              testId={`revenue-${currency.toLowerCase()}`}
              currency={currency}
              rows={rows}
              xKey="month"
              xLabel="Month"
              bars={[
                { key: 'captured_amount', label: 'Captured', color: COLORS.captured },
                { key: 'refunded_amount', label: 'Refunded', color: COLORS.refunded },
                { key: 'net_amount', label: 'Net', color: COLORS.net },
              ]}
              columns={[
                { key: 'month', label: 'Month' },
                { key: 'captured_amount', label: 'Captured', money: true },
                { key: 'refunded_amount', label: 'Refunded', money: true },
                { key: 'net_amount', label: 'Net', money: true },
                { key: 'count', label: 'Charges' },
                { key: 'refund_count', label: 'Refunds' },
              ]}
            />
          </div>
        );
      })}
    </Stack>
  );
}

function DueNext7Days({ report }: { report: Report<DueRow> }) {
  if (report.data.length === 0) return <Empty>Nothing is due in the next 7 days.</Empty>;
  const days = Array.from({ length: 7 }, (_, i) => addDays(report.date, i));
  return (
    <Stack gap="md">
      {currenciesOf(report.data).map((currency) => {
        // Every day of the seven, a day with nothing due at zero, so that the bars line up with the calendar.
        const rows = days.map(
          (day): DueRow =>
            report.data.find((row) => row.currency === currency && row.due_date === day) ?? {
              due_date: day,
              currency,
              count: 0,
              amount: 0,
            },
        );
        const code = currency.toUpperCase();
        return (
          <div key={currency}>
            <Title order={3} size="h5">
              {code}
            </Title>
            <ReportChart
              title={`Due in the next 7 days in ${code}`}
              testId={`due-${currency.toLowerCase()}`}
              currency={currency}
              rows={rows}
              xKey="due_date"
              xLabel="Due date"
              xFormat={(day) => day.slice(5)}
              bars={[{ key: 'amount', label: 'Due', color: COLORS.due }]}
              columns={[
                { key: 'due_date', label: 'Due date' },
                { key: 'amount', label: 'Amount', money: true },
                { key: 'count', label: 'Charges' },
              ]}
            />
          </div>
        );
      })}
    </Stack>
  );
}

function FailedToday({ report }: { report: Report<FailedRow> }) {
  if (report.data.length === 0) return <Empty>No charge failed today.</Empty>;
  const rows = report.data.slice(0, SHOWN_ROWS);
  return (
    <>
      <Table.ScrollContainer minWidth={640}>
        <Table striped aria-label="Failed today">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Transaction</Table.Th>
              <Table.Th scope="col" ta="right">
                Amount
              </Table.Th>
              <Table.Th scope="col">Error</Table.Th>
              <Table.Th scope="col">Account</Table.Th>
              <Table.Th scope="col">Failed at</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={row.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/transactions/${row.id}`} ff="monospace" size="sm">
                    {row.id}
                  </Anchor>
                </Table.Td>
                <Table.Td ta="right">
                  <Money amount={row.amount} currency={row.currency} />
                </Table.Td>
                <Table.Td>
                  <Text size="sm">
                    {row.error_code ?? '—'}
                    {row.decline_code ? ` (${row.decline_code})` : ''}
                  </Text>
                  {row.error_message ? (
                    <Text size="xs" c="dark.6">
                      {row.error_message}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>
                  {row.account_id ? (
                    <Anchor component={Link} to={`/accounts/${row.account_id}`} ff="monospace" size="sm">
                      {row.account_id}
                    </Anchor>
                  ) : (
                    '—'
                  )}
                </Table.Td>
                <Table.Td>
                  <DateTime value={row.failed_at} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <MoreRows shown={rows.length} total={report.data.length} />
    </>
  );
}

function ToFix({ report }: { report: Report<ToFixRow> }) {
  if (report.data.length === 0) return <Empty>Nothing to fix.</Empty>;
  return (
    <Table striped aria-label="To fix">
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">What to fix</Table.Th>
          <Table.Th scope="col" ta="right">
            Transactions
          </Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {report.data.map((row) => (
          <Table.Tr key={row.code}>
            <Table.Td>
              <Text size="sm">{row.message}</Text>
              <Text size="xs" c="dark.6" ff="monospace">
                {row.code}
              </Text>
            </Table.Td>
            <Table.Td ta="right">{row.count.toLocaleString('en-US')}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function Payouts({ report }: { report: Report<PayoutRow> }) {
  if (report.data.length === 0) return <Empty>No payouts yet.</Empty>;
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table striped aria-label="Payouts">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Payout</Table.Th>
            <Table.Th scope="col" ta="right">
              Amount
            </Table.Th>
            <Table.Th scope="col">Arrival</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Reconciliation</Table.Th>
            <Table.Th scope="col" ta="right">
              Items
            </Table.Th>
            <Table.Th scope="col" ta="right">
              Items total
            </Table.Th>
            <Table.Th scope="col" ta="right">
              Unmatched
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {report.data.map((row) => (
            <Table.Tr key={row.id}>
              <Table.Td>
                <Anchor component={Link} to={`/payouts/${row.id}`} ff="monospace" size="sm">
                  {row.id}
                </Anchor>
              </Table.Td>
              <Table.Td ta="right">
                <Money amount={row.amount} currency={row.currency} />
              </Table.Td>
              <Table.Td>{row.arrival_date ?? '—'}</Table.Td>
              <Table.Td>
                <StatusBadge value={row.status} />
              </Table.Td>
              <Table.Td>
                <StatusBadge value={row.reconciliation_status} />
              </Table.Td>
              <Table.Td ta="right">{row.items_count ?? '—'}</Table.Td>
              <Table.Td ta="right">
                {row.items_total === null ? '—' : <Money amount={row.items_total} currency={row.currency} />}
              </Table.Td>
              <Table.Td ta="right">{row.unmatched_count ?? '—'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export default function DashboardPage() {
  // The day and time zone the reports are made in, from the revenue report.
  const [about, setAbout] = useState<{ date: string; timezone: string } | undefined>(undefined);
  const setAboutFrom = useCallback(
    (report: Report<RevenueRow>) => setAbout({ date: report.date, timezone: report.timezone }),
    [],
  );
  return (
    <Stack gap="md">
      <div>
        <Title order={1}>Dashboard</Title>
        <Text size="sm" c="dark.6" data-testid="dashboard-about">
          {about ? `Reports for ${about.date}, days and months in ${about.timezone}.` : 'Reports'}
        </Text>
      </div>
      <ReportCard<RevenueRow>
        name="revenue_by_month"
        title="Revenue by month"
        description="Captured charges less their refunds, per month and currency."
        testId="report-revenue_by_month"
        onLoaded={setAboutFrom}
      >
        {(report) => <RevenueByMonth report={report} />}
      </ReportCard>
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
        <ReportCard<DueRow>
          name="due_next_7_days"
          title="Due in the next 7 days"
          description="Open auto-process charges per due day and currency."
          testId="report-due_next_7_days"
        >
          {(report) => <DueNext7Days report={report} />}
        </ReportCard>
        <ReportCard<ToFixRow>
          name="to_fix"
          title="To fix"
          description="Transactions that cannot be processed as they are, per reason."
          testId="report-to_fix"
        >
          {(report) => <ToFix report={report} />}
        </ReportCard>
      </SimpleGrid>
      <ReportCard<FailedRow>
        name="failed_today"
        title="Failed today"
        description="Charges that failed today."
        testId="report-failed_today"
      >
        {(report) => <FailedToday report={report} />}
      </ReportCard>
      <ReportCard<PayoutRow>
        name="payouts"
        title="Payouts"
        description="The last 30 payouts and their reconciliation."
        testId="report-payouts"
      >
        {(report) => <Payouts report={report} />}
      </ReportCard>
    </Stack>
  );
}
