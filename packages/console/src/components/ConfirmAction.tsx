// An action button that asks before it acts and then says what happened: the API's answer (201/200), a 202
// "being confirmed" (the gateway's answer is not in yet; a webhook or the recovery will settle it), or the refusal.
import { Alert, Button, Group, Modal, Stack, Text, type ButtonProps } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState, type ReactNode } from 'react';
import { ApiError, type ApiAnswer } from '../api';

export interface ConfirmActionProps {
  label: string;
  title: string;
  /** What will happen, in the dialog; may hold inputs (amount, reason). */
  children?: ReactNode;
  /** Performs the call; its answer's status decides the outcome shown. */
  run(): Promise<ApiAnswer<unknown>>;
  /** After a success (2xx), e.g. to reload the page's data. */
  onDone?(answer: ApiAnswer<unknown>): void;
  /** What a 202 answer means for this action; default: the gateway's answer is not in yet. */
  acceptedMessage?: string;
  /** Disables the confirm button (invalid inputs). */
  invalid?: boolean;
  confirmLabel?: string;
  color?: ButtonProps['color'];
  variant?: ButtonProps['variant'];
}

export function ConfirmAction(props: ConfirmActionProps) {
  const [opened, { open, close }] = useDisclosure(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);

  async function confirm() {
    setBusy(true);
    try {
      const answer = await props.run();
      setOutcome({
        ok: true,
        message:
          answer.status === 202
            ? (props.acceptedMessage ??
              'Accepted: the gateway has not answered yet, so the result is being confirmed. This page will show it once it is known.')
            : 'Done.',
      });
      props.onDone?.(answer);
    } catch (error) {
      const code = error instanceof ApiError ? ` (${error.code})` : '';
      setOutcome({ ok: false, message: `${error instanceof Error ? error.message : String(error)}${code}` });
    } finally {
      setBusy(false);
    }
  }

  function dismiss() {
    close();
    setOutcome(null);
  }

  return (
    <>
      <Button size="xs" color={props.color} variant={props.variant ?? 'filled'} onClick={open}>
        {props.label}
      </Button>
      <Modal
        opened={opened}
        onClose={dismiss}
        title={props.title}
        centered
        closeButtonProps={{ 'aria-label': 'Dismiss dialog' }}
      >
        <Stack>
          {outcome === null ? (
            <>
              {props.children ?? <Text size="sm">Are you sure?</Text>}
              <Group justify="flex-end">
                <Button variant="default" onClick={dismiss}>
                  Cancel
                </Button>
                <Button color={props.color} loading={busy} disabled={props.invalid} onClick={() => void confirm()}>
                  {props.confirmLabel ?? props.label}
                </Button>
              </Group>
            </>
          ) : (
            <>
              <Alert
                color={outcome.ok ? 'green' : 'red'}
                role={outcome.ok ? 'status' : 'alert'}
                title={outcome.ok ? 'Result' : 'Refused'}
                // WCAG AA: Mantine's light green/red title (3.8:1 on its fill) in dark text instead.
                styles={{ title: { color: 'var(--mantine-color-dark-8)' } }}
              >
                {outcome.message}
              </Alert>
              <Group justify="flex-end">
                <Button onClick={dismiss}>Close</Button>
              </Group>
            </>
          )}
        </Stack>
      </Modal>
    </>
  );
}
