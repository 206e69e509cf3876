// A bar chart of one currency's amounts (Recharts; loaded by the dashboard alone) with its accessible alternative:
// the same figures as a table, visually hidden while the chart shows (screen readers always have it) and shown in
// its place by the "Show as table" toggle. Amounts stay integer minor units: the axis and the tooltip format them
// with formatMoney, and the axis asks for whole ticks only.
import { Box, Button, Group, Table, VisuallyHidden } from '@mantine/core';
import { type CSSProperties, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Money } from '../../components/data';
import { formatMoney } from '../../money';

export interface ChartBar {
  /** The row's key holding the amount. */
  key: string;
  label: string;
  /** A fill with at least 3:1 contrast on white (WCAG 1.4.11). */
  color: string;
}

export interface TableColumn {
  key: string;
  label: string;
  /** Money in minor units of the chart's currency; otherwise shown as it is. */
  money?: boolean;
}

export interface ReportChartProps {
  /** What the chart shows, e.g. "Revenue by month in USD": the table's caption and the chart's label. */
  title: string;
  currency: string;
  rows: Record<string, string | number | null>[];
  /** The row's key on the horizontal axis (a month or a day). */
  xKey: string;
  xLabel: string;
  bars: ChartBar[];
  /** How the horizontal axis writes a value (the table keeps it whole). */
  xFormat?: (value: string) => string;
  /** The accessible table's columns (the first is the x key). */
  columns: TableColumn[];
  /** The test id of the accessible table. */
  testId: string;
}

/** Off screen but read by assistive technology (a <div>: Mantine's VisuallyHidden is a <span>, no place for a table). */
const VISUALLY_HIDDEN: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
  border: 0,
};

function FiguresTable({ title, currency, rows, columns, testId }: ReportChartProps) {
  return (
    <Table striped withTableBorder captionSide="top" data-testid={testId}>
      <caption>{title}</caption>
      <Table.Thead>
        <Table.Tr>
          {columns.map((column) => (
            <Table.Th key={column.key} scope="col" ta={column.money ? 'right' : undefined}>
              {column.label}
            </Table.Th>
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((row, index) => (
          <Table.Tr key={String(row[columns[0]?.key ?? ''] ?? index)}>
            {columns.map((column) => {
              const value = row[column.key] ?? null;
              return (
                <Table.Td key={column.key} ta={column.money ? 'right' : undefined}>
                  {column.money && typeof value === 'number' ? (
                    <Money amount={value} currency={currency} />
                  ) : (
                    String(value ?? '—')
                  )}
                </Table.Td>
              );
            })}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function ReportChart(props: ReportChartProps) {
  const { title, currency, rows, xKey, xLabel, bars, xFormat } = props;
  const [asTable, setAsTable] = useState(false);
  const money = (value: unknown) => formatMoney(typeof value === 'number' ? value : Number(value), currency);
  return (
    <Box>
      <Group justify="flex-end" mb={4}>
        <Button size="compact-xs" variant="default" aria-pressed={asTable} onClick={() => setAsTable((v) => !v)}>
          {asTable ? 'Show as chart' : 'Show as table'}
          <VisuallyHidden>: {title}</VisuallyHidden>
        </Button>
      </Group>
      {asTable ? (
        <FiguresTable {...props} />
      ) : (
        <>
          {/* The chart is a picture of the table below; assistive technology reads the table. */}
          <Box aria-hidden="true" h={240} data-testid={`${props.testId}-chart`}>
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={rows} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis
                  dataKey={xKey}
                  tick={{ fontSize: 12, fill: '#343a40' }}
                  name={xLabel}
                  interval={0}
                  tickFormatter={xFormat}
                />
                <YAxis
                  allowDecimals={false}
                  width={96}
                  tick={{ fontSize: 12, fill: '#343a40' }}
                  tickFormatter={(value: number) => money(value)}
                />
                <Tooltip formatter={(value) => money(value)} isAnimationActive={false} />
                <Legend wrapperStyle={{ fontSize: 12 }} itemSorter={null} />
                {bars.map((bar) => (
                  <Bar
                    key={bar.key}
                    dataKey={bar.key}
                    name={bar.label}
                    fill={bar.color}
                    maxBarSize={56}
                    isAnimationActive={false}
                  />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </Box>
          <div style={VISUALLY_HIDDEN}>
            <FiguresTable {...props} />
          </div>
        </>
      )}
    </Box>
  );
}
