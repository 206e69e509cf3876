// The actions a transaction's state allows (the server's rules: src/domain/transaction-state.ts, the planners in
// src/app/processing/actions.ts and reattempt.ts, and PATCH's open <-> on_hold, open -> canceled). Each goes through
// ConfirmAction; the page reloads after a success. Rendered for operators and admins only.
import { Anchor, Alert, Group, NativeSelect, Text, TextInput, Title } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { api, type ApiAnswer } from '../../api';
import { ConfirmAction } from '../../components/ConfirmAction';
import { formatMoney, parseMoney, toDecimalText } from '../../money';
import { READABLE_ALERT, stateLabel, type Transaction } from './model';

const CAPTURED_STATES = ['completed/captured', 'completed/partially_captured', 'completed/partially_refunded'];
const REFUND_REASONS = [
  { value: '', label: 'No reason given' },
  { value: 'requested_by_customer', label: 'Requested by customer' },
  { value: 'duplicate', label: 'Duplicate' },
  { value: 'fraudulent', label: 'Fraudulent' },
];

/** Which actions the transaction's state allows, as the API decides them. */
export function allowedActions(t: Transaction) {
  const state = stateLabel(t);
  const normalCharge = t.record_type === 'charge' && t.transaction_type === 'normal';
  const refundable =
    t.record_type === 'charge' && (t.transaction_type === 'normal' || t.transaction_type === 'write_off');
  return {
    authorize: normalCharge && state === 'open' && !t.non_gateway,
    capture: normalCharge && (state === 'open' || state === 'completed/authorized'),
    release: normalCharge && state === 'completed/authorized' && !t.non_gateway,
    refund: refundable && CAPTURED_STATES.includes(state) && t.retained_amount > 0,
    reattempt: t.status === 'failed',
    // What POST /v1/transactions could create again (no write-offs, reversals or gateway-made records).
    clone:
      (t.record_type === 'charge' || t.record_type === 'transfer') &&
      (t.transaction_type === 'normal' || t.transaction_type === 'refund'),
    cancel: t.status === 'open',
    hold: t.status === 'open',
    unhold: t.status === 'on_hold',
  };
}

/** Its children while `when`, else kept mounted but hidden (display: none: out of the page and of the keyboard). */
function Shown({ when, children }: { when: boolean; children: ReactNode }) {
  return <div hidden={!when}>{children}</div>;
}

const post = (id: string, action: string, body?: unknown) =>
  api.post<Transaction>(`/v1/transactions/${id}/${action}`, body);

/** A money input's amount: undefined when it is not a valid positive amount up to `max`. */
function amountOf(text: string, currency: string, max: number): number | undefined {
  const amount = parseMoney(text, currency);
  return amount !== undefined && amount > 0 && amount <= max ? amount : undefined;
}

export function TransactionActions({ transaction: t, onChanged }: { transaction: Transaction; onChanged(): void }) {
  const allowed = allowedActions(t);
  const authorizedCapture = stateLabel(t) === 'completed/authorized';
  const [captureText, setCaptureText] = useState(toDecimalText(t.authorized_amount, t.currency));
  const [refundText, setRefundText] = useState(toDecimalText(Math.max(t.retained_amount, 0), t.currency));
  const [reason, setReason] = useState('');
  const [created, setCreated] = useState<{ what: string; id: string } | null>(null);
  // The inputs start again from the amounts whenever the transaction changes (after an action's reload).
  const [seen, setSeen] = useState(t.updated_at);
  if (seen !== t.updated_at) {
    setSeen(t.updated_at);
    setCaptureText(toDecimalText(t.authorized_amount, t.currency));
    setRefundText(toDecimalText(Math.max(t.retained_amount, 0), t.currency));
    setReason('');
  }
  const captureAmount = amountOf(captureText, t.currency, t.authorized_amount);
  const refundAmount = amountOf(refundText, t.currency, t.retained_amount);
  const code = t.currency.toUpperCase();
  const done = () => onChanged();
  const madeNew = (what: string) => (answer: ApiAnswer<unknown>) => {
    setCreated({ what, id: (answer.data as Transaction).id });
    onChanged();
  };

  const any = Object.values(allowed).some(Boolean) || created !== null;
  // Every action stays mounted, hidden while the state does not allow it: the one just done keeps its dialog (a
  // portal) open to show its outcome after the reload has moved the transaction on.
  return (
    <section aria-labelledby="transaction-actions" hidden={!any}>
      <Title order={2} size="h4" id="transaction-actions" mb="xs">
        Actions
      </Title>
      <Group gap="xs">
        <Shown when={allowed.authorize}>
          <ConfirmAction
            label="Authorize"
            title="Authorize this charge"
            run={() => post(t.id, 'authorize')}
            onDone={done}
          >
            <Text size="sm">
              Hold {formatMoney(t.amount, t.currency)} on the payment method; capture or release it later.
            </Text>
          </ConfirmAction>
        </Shown>
        <Shown when={allowed.capture}>
          <ConfirmAction
            label="Capture"
            title="Capture this charge"
            invalid={authorizedCapture && captureAmount === undefined}
            run={() => post(t.id, 'capture', authorizedCapture ? { amount: captureAmount } : {})}
            onDone={done}
          >
            {authorizedCapture ? (
              <TextInput
                label={`Amount to capture (${code})`}
                description={`Up to ${formatMoney(t.authorized_amount, t.currency)}; less captures part and releases the rest.`}
                value={captureText}
                onChange={(event) => setCaptureText(event.currentTarget.value)}
                error={captureAmount === undefined ? 'Enter an amount above zero, at most what is authorized.' : null}
                inputMode="decimal"
                autoComplete="off"
              />
            ) : (
              <Text size="sm">Charge {formatMoney(t.amount, t.currency)} now.</Text>
            )}
          </ConfirmAction>
        </Shown>
        <Shown when={allowed.release}>
          <ConfirmAction
            label="Release"
            title="Release the authorization"
            run={() => post(t.id, 'release')}
            onDone={done}
          >
            <Text size="sm">
              Give back the {formatMoney(t.authorized_amount, t.currency)} held; nothing is charged.
            </Text>
          </ConfirmAction>
        </Shown>
        <Shown when={allowed.refund}>
          <ConfirmAction
            label="Refund"
            title="Refund this charge"
            color="grape"
            invalid={refundAmount === undefined}
            run={() => post(t.id, 'refund', { amount: refundAmount, ...(reason === '' ? {} : { reason }) })}
            onDone={done}
          >
            <TextInput
              label={`Amount to refund (${code})`}
              description={`Up to ${formatMoney(t.retained_amount, t.currency)}.`}
              value={refundText}
              onChange={(event) => setRefundText(event.currentTarget.value)}
              error={refundAmount === undefined ? 'Enter an amount above zero, at most what can be refunded.' : null}
              inputMode="decimal"
              autoComplete="off"
            />
            <NativeSelect
              label="Reason"
              data={REFUND_REASONS}
              value={reason}
              onChange={(event) => setReason(event.currentTarget.value)}
            />
          </ConfirmAction>
        </Shown>
        <Shown when={allowed.reattempt}>
          <ConfirmAction
            label="Reattempt"
            title="Reattempt this failed transaction"
            run={() => post(t.id, 'reattempt')}
            onDone={madeNew('Reattempt')}
          >
            <Text size="sm">Create a new open transaction from this one (once per failed transaction).</Text>
          </ConfirmAction>
        </Shown>
        <Shown when={allowed.clone}>
          <ConfirmAction
            label="Clone"
            title="Clone this transaction"
            variant="default"
            run={() => post(t.id, 'clone')}
            onDone={madeNew('Clone')}
          >
            <Text size="sm">Create a new open transaction with the same business fields.</Text>
          </ConfirmAction>
        </Shown>
        <Shown when={allowed.hold}>
          <ConfirmAction
            label="Hold"
            title="Put this transaction on hold"
            variant="default"
            run={() => api.patch<Transaction>(`/v1/transactions/${t.id}`, { status: 'on_hold' })}
            onDone={done}
          >
            <Text size="sm">It will not be processed until the hold is released.</Text>
          </ConfirmAction>
        </Shown>
        <Shown when={allowed.unhold}>
          <ConfirmAction
            label="Release hold"
            title="Release the hold"
            variant="default"
            run={() => api.patch<Transaction>(`/v1/transactions/${t.id}`, { status: 'open' })}
            onDone={done}
          >
            <Text size="sm">The transaction becomes open again.</Text>
          </ConfirmAction>
        </Shown>
        <Shown when={allowed.cancel}>
          <ConfirmAction
            label="Cancel transaction"
            title="Cancel this transaction"
            color="red"
            run={() => post(t.id, 'cancel')}
            onDone={done}
          >
            <Text size="sm">A canceled transaction is never processed. This cannot be undone.</Text>
          </ConfirmAction>
        </Shown>
      </Group>
      {created && (
        <Alert color="green" role="status" mt="sm" title={`${created.what} created`} styles={READABLE_ALERT}>
          New transaction:{' '}
          <Anchor component={Link} to={`/transactions/${created.id}`} ff="monospace">
            {created.id}
          </Anchor>
        </Alert>
      )}
    </section>
  );
}
