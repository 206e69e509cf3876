// One invoice (GET /v1/invoices/{id}): amounts, balances, payment status, totals, its allocations and transactions,
// and, for operators and admins, pay (POST /v1/invoices/{id}/pay), write off (/write-off) and void (/void).
import { Group, NativeSelect, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useParams } from 'react-router';
import { api } from '../../api';
import { ConfirmAction } from '../../components/ConfirmAction';
import { DateTime, Money, StatusBadge, useResource } from '../../components/data';
import { formatMoney, parseMoney, toDecimalText } from '../../money';
import { useSession } from '../../session';
import { cardLabel } from './PaymentMethodsPage';
import {
  Fields,
  IdLink,
  Loaded,
  PagedTable,
  Section,
  useSticky,
  TotalsTable,
  TRANSACTION_COLUMNS,
  type TransactionRow,
} from './shared';
import type { Allocation, Invoice, PaymentMethod } from './types';
import type { ApiList } from '../../api';

/** The amount typed for an action: minor units, or undefined when it is not a valid positive amount. */
function amountOf(text: string, currency: string): number | undefined {
  const amount = parseMoney(text, currency);
  return amount !== undefined && amount > 0 ? amount : undefined;
}

function PayAction({ invoice, onDone }: { invoice: Invoice; onDone(): void }) {
  // The usable payment methods of the invoice's account (its contacts' included), else of its contact (the first
  // page: 100 at most); without either, the id is typed.
  const owner = invoice.account_id
    ? { account_id: invoice.account_id }
    : invoice.contact_id
      ? { contact_id: invoice.contact_id }
      : null;
  const methods = useResource<ApiList<PaymentMethod>>(owner ? '/v1/payment-methods' : null, { ...owner, limit: 100 });
  const usable = (methods.data?.data ?? []).filter((method) => method.usable);
  const [chosen, setChosen] = useState('');
  const [typed, setTyped] = useState('');
  const [amountText, setAmountText] = useState(toDecimalText(Math.max(invoice.balance_due, 0), invoice.currency));
  useEffect(
    () => setAmountText(toDecimalText(Math.max(invoice.balance_due, 0), invoice.currency)),
    [invoice.balance_due, invoice.currency],
  );
  const paymentMethodId = usable.length > 0 ? chosen || usable[0]!.id : typed.trim();
  const amount = amountOf(amountText, invoice.currency);
  return (
    <ConfirmAction
      label="Pay"
      title={`Pay invoice ${invoice.number}`}
      invalid={paymentMethodId === '' || amount === undefined}
      confirmLabel="Charge now"
      run={() => api.post(`/v1/invoices/${invoice.id}/pay`, { payment_method_id: paymentMethodId, amount })}
      onDone={onDone}
    >
      <Text size="sm">
        Charges the payment method through the gateway and allocates the charge to this invoice. Balance due:{' '}
        {formatMoney(invoice.balance_due, invoice.currency)}.
      </Text>
      {usable.length > 0 ? (
        <NativeSelect
          label="Payment method"
          value={paymentMethodId}
          onChange={(event) => setChosen(event.currentTarget.value)}
          data={usable.map((method) => ({ value: method.id, label: `${cardLabel(method)} (${method.id})` }))}
        />
      ) : (
        <TextInput
          label="Payment method id"
          placeholder="pmt_..."
          value={typed}
          onChange={(event) => setTyped(event.currentTarget.value)}
        />
      )}
      <TextInput
        label={`Amount (${invoice.currency.toUpperCase()})`}
        value={amountText}
        onChange={(event) => setAmountText(event.currentTarget.value)}
        error={amount === undefined ? 'A positive amount, e.g. 12.34' : undefined}
      />
    </ConfirmAction>
  );
}

function WriteOffAction({ invoice, onDone }: { invoice: Invoice; onDone(): void }) {
  const [amountText, setAmountText] = useState(toDecimalText(Math.max(invoice.balance_due, 0), invoice.currency));
  const [reason, setReason] = useState('');
  useEffect(
    () => setAmountText(toDecimalText(Math.max(invoice.balance_due, 0), invoice.currency)),
    [invoice.balance_due, invoice.currency],
  );
  const amount = amountOf(amountText, invoice.currency);
  return (
    <ConfirmAction
      label="Write off"
      title={`Write off part of invoice ${invoice.number}`}
      variant="default"
      invalid={amount === undefined}
      run={() =>
        api.post(`/v1/invoices/${invoice.id}/write-off`, {
          amount,
          ...(reason.trim() === '' ? {} : { reason: reason.trim() }),
        })
      }
      onDone={onDone}
    >
      <Text size="sm">
        Records a completed write-off allocated to this invoice, at most the balance due (
        {formatMoney(invoice.balance_due, invoice.currency)}).
      </Text>
      <TextInput
        label={`Amount to write off (${invoice.currency.toUpperCase()})`}
        value={amountText}
        onChange={(event) => setAmountText(event.currentTarget.value)}
        error={amount === undefined ? 'A positive amount, e.g. 12.34' : undefined}
      />
      <Textarea
        label="Reason"
        value={reason}
        maxLength={1000}
        onChange={(event) => setReason(event.currentTarget.value)}
      />
    </ConfirmAction>
  );
}

/**
 * Pay and write off while the invoice is open with a balance due, void while nothing is allocated. An action once
 * offered stays on the page (its dialog shows the outcome even when the outcome makes it no longer apply; the API
 * refuses a repeat with its reason).
 */
function InvoiceActions({ invoice, onDone }: { invoice: Invoice; onDone(): void }) {
  const payable = useSticky(invoice.status === 'open' && invoice.balance_due > 0);
  const voidable = useSticky(invoice.status !== 'void' && invoice.allocations_count === 0);
  if (!payable && !voidable) return null;
  return (
    <Group aria-label="Invoice actions" role="group">
      {payable ? (
        <>
          <PayAction invoice={invoice} onDone={onDone} />
          <WriteOffAction invoice={invoice} onDone={onDone} />
        </>
      ) : null}
      {voidable ? (
        <ConfirmAction
          label="Void"
          title={`Void invoice ${invoice.number}`}
          color="red"
          run={() => api.post(`/v1/invoices/${invoice.id}/void`)}
          onDone={onDone}
        >
          <Text size="sm">A void invoice is final: it cannot be paid or reopened.</Text>
        </ConfirmAction>
      ) : null}
    </Group>
  );
}

export default function InvoicePage() {
  const { id = '' } = useParams();
  const { canWrite } = useSession();
  const resource = useResource<Invoice>(`/v1/invoices/${encodeURIComponent(id)}`);
  // Actions change the allocations and transactions too: a new key remounts those lists.
  const [version, setVersion] = useState(0);
  const reload = () => {
    resource.reload();
    setVersion((value) => value + 1);
  };
  return (
    <Stack>
      <Title order={1}>Invoice {resource.data?.number ?? id}</Title>
      <Loaded resource={resource}>
        {(invoice) => (
          <>
            {canWrite ? <InvoiceActions invoice={invoice} onDone={reload} /> : null}
            <Fields
              label="Invoice"
              rows={[
                ['Id', invoice.id],
                ['Number', invoice.number],
                ['Status', <StatusBadge key="s" value={invoice.status} />],
                ['Payment status', <StatusBadge key="ps" value={invoice.payment_status} />],
                ['Total', <Money key="t" amount={invoice.total} currency={invoice.currency} />],
                ['Paid', <Money key="p" amount={invoice.balance_paid} currency={invoice.currency} />],
                ['Written off', <Money key="w" amount={invoice.write_off_amount} currency={invoice.currency} />],
                ['Balance due', <Money key="b" amount={invoice.balance_due} currency={invoice.currency} />],
                ['Issued on', invoice.issued_on ?? '—'],
                ['Due date', invoice.due_date ? `${invoice.due_date} (${invoice.timezone ?? 'default zone'})` : '—'],
                ['Past due', invoice.past_due ? 'Yes' : 'No'],
                ['Account', <IdLink key="a" to="accounts" id={invoice.account_id} />],
                ['Contact', <IdLink key="c" to="contacts" id={invoice.contact_id} />],
                ['Description', invoice.description ?? '—'],
                ['Created', <DateTime key="cr" value={invoice.created_at} />],
                ['Updated', <DateTime key="u" value={invoice.updated_at} />],
              ]}
            />
            <Section title="Totals">
              <TotalsTable totals={invoice.totals} label="Totals per currency" />
            </Section>
            <Section title="Allocations">
              <PagedTable<Allocation>
                key={`alc-${version}`}
                path="/v1/allocations"
                query={{ invoice_id: invoice.id }}
                caption="Allocations to this invoice"
                empty="Nothing is allocated to this invoice."
                limit={25}
                columns={[
                  {
                    header: 'Allocation',
                    cell: (row) => (
                      <Text span ff="monospace" size="sm">
                        {row.id}
                      </Text>
                    ),
                  },
                  { header: 'Transaction', cell: (row) => <IdLink to="transactions" id={row.transaction_id} /> },
                  { header: 'Kind', cell: (row) => row.kind.replaceAll('_', ' ') },
                  {
                    header: 'Amount',
                    numeric: true,
                    cell: (row) => <Money amount={row.amount} currency={invoice.currency} />,
                  },
                  {
                    header: 'Applied',
                    numeric: true,
                    cell: (row) => <Money amount={row.applied_amount} currency={invoice.currency} />,
                  },
                  { header: 'Created', cell: (row) => <DateTime value={row.created_at} /> },
                ]}
              />
            </Section>
            <Section title="Transactions">
              <PagedTable<TransactionRow>
                key={`trx-${version}`}
                path={`/v1/invoices/${invoice.id}/transactions`}
                query={{}}
                caption="Transactions allocated to this invoice"
                empty="No transactions."
                limit={25}
                columns={[
                  ...TRANSACTION_COLUMNS.slice(0, 5),
                  {
                    header: 'Allocated',
                    numeric: true,
                    cell: (row) =>
                      row.allocation ? <Money amount={row.allocation.amount} currency={invoice.currency} /> : '—',
                  },
                  ...TRANSACTION_COLUMNS.slice(6),
                ]}
              />
            </Section>
          </>
        )}
      </Loaded>
    </Stack>
  );
}
