// Batch capture (POST /v1/transactions/capture, P10): asks first, then shows one line per id with its outcome as the
// API reported it (each id's status_code, and the transaction's new state or the error), in order.
import { Alert, Button, Group, Modal, Stack, Table, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';
import { api, ApiError, type ApiList } from '../../api';
import { StatusBadge } from '../../components/data';
import { ScrollRegion } from './ScrollRegion';
import { MAX_BATCH_CAPTURE, READABLE_ALERT, type BatchCaptureItem } from './model';

function outcomeOf(item: BatchCaptureItem): string {
  if (item.error) return `Refused (${item.status_code})`;
  if (item.status_code === 202) return 'Being confirmed (202)';
  return `Done (${item.status_code})`;
}

export function BatchCapture({ ids, onDone }: { ids: readonly string[]; onDone(): void }) {
  const [opened, { open, close }] = useDisclosure(false);
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<BatchCaptureItem[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const tooMany = ids.length > MAX_BATCH_CAPTURE;

  async function confirm() {
    setBusy(true);
    setFailure(null);
    try {
      const answer = await api.post<ApiList<BatchCaptureItem>>('/v1/transactions/capture', { ids });
      setResults(answer.data.data);
      onDone();
    } catch (error) {
      const code = error instanceof ApiError ? ` (${error.code})` : '';
      setFailure(`${error instanceof Error ? error.message : String(error)}${code}`);
    } finally {
      setBusy(false);
    }
  }

  function dismiss() {
    close();
    setResults(null);
    setFailure(null);
  }

  const label = `Batch capture (${ids.length} selected)`;
  return (
    <>
      <Button size="xs" disabled={ids.length === 0} onClick={open}>
        {label}
      </Button>
      <Modal
        opened={opened}
        onClose={dismiss}
        title="Batch capture"
        centered
        size="xl"
        closeButtonProps={{ 'aria-label': 'Dismiss dialog' }}
      >
        <Stack>
          {results === null ? (
            <>
              {tooMany ? (
                <Alert color="red" role="alert" title="Too many transactions selected" styles={READABLE_ALERT}>
                  At most {MAX_BATCH_CAPTURE} transactions can be captured at once; {ids.length} are selected. Select
                  fewer and try again.
                </Alert>
              ) : (
                <Text size="sm">
                  Capture {ids.length} transaction{ids.length === 1 ? '' : 's'}? Open charges are charged now;
                  authorized ones are captured in full.
                </Text>
              )}
              {failure && (
                <Alert color="red" role="alert" title="Refused" styles={READABLE_ALERT}>
                  {failure}
                </Alert>
              )}
              <Group justify="flex-end">
                <Button variant="default" onClick={dismiss}>
                  Cancel
                </Button>
                {!tooMany && (
                  <Button loading={busy} onClick={() => void confirm()}>
                    Capture {ids.length}
                  </Button>
                )}
              </Group>
            </>
          ) : (
            <>
              <Alert color="green" role="status" title="Result" styles={READABLE_ALERT}>
                {results.filter((item) => !item.error).length} of {results.length} captured or being confirmed.
              </Alert>
              <ScrollRegion label="Batch capture results">
                <Table data-testid="batch-capture-results">
                  <caption>Batch capture results</caption>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>ID</Table.Th>
                      <Table.Th>Outcome</Table.Th>
                      <Table.Th>State</Table.Th>
                      <Table.Th>Error</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {results.map((item) => (
                      <Table.Tr key={item.id}>
                        <Table.Td>{item.id}</Table.Td>
                        <Table.Td>{outcomeOf(item)}</Table.Td>
                        <Table.Td>
                          {item.transaction ? (
                            <StatusBadge value={item.transaction.payment_status ?? item.transaction.status} />
                          ) : (
                            '—'
                          )}
                        </Table.Td>
                        <Table.Td>{item.error ? `${item.error.message} (${item.error.code})` : '—'}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </ScrollRegion>
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
