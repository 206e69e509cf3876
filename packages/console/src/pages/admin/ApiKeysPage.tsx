// API keys: the list (never a secret), creating one (its secret shown once, in a dialog) and revoking one.
import {
  Badge,
  Button,
  Checkbox,
  Code,
  Group,
  Loader,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { api } from '../../api';
import { CLOSE_BUTTON_PROPS, Notice, SecretOnce } from '../operations/shared';
import { ConfirmAction } from '../../components/ConfirmAction';
import { DateTime, ErrorNotice, Pager, usePagedList } from '../../components/data';

interface ApiKey {
  id: string;
  object: 'api_key';
  name: string;
  scopes: string[];
  created_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  bootstrap: boolean;
}

interface ApiKeyCreated extends ApiKey {
  secret: string | null;
}

const SCOPES = [
  { value: 'read', label: 'read: GET routes' },
  { value: 'write', label: 'write: also creating and processing' },
  { value: 'admin', label: 'admin: also gateways, settings, API keys, users, audit events' },
] as const;

/** Shows a just-created key's secret once; closing the dialog forgets it. */
function SecretDialog({ created, onClose }: { created: ApiKeyCreated | null; onClose(): void }) {
  return (
    <Modal
      opened={created !== null}
      onClose={onClose}
      title="Your new API key"
      centered
      size="lg"
      zIndex={300}
      closeButtonProps={CLOSE_BUTTON_PROPS}
    >
      {created && (
        <Stack>
          {created.secret ? (
            <>
              <Notice color="yellow" title="Copy it now" role="status">
                This is the only time Settle shows this secret: it keeps only a digest. Copy it and keep it somewhere
                safe; if it is lost, create another key and revoke this one.
              </Notice>
              <Text size="sm">
                {created.name} ({created.id}), scopes {created.scopes.join(', ')}:
              </Text>
              <SecretOnce
                value={created.secret}
                label="The new API key's secret"
                testId="api-key-secret"
                copyLabel="Copy the secret"
              />
            </>
          ) : (
            <Notice color="yellow" role="status" title="No secret in this answer">
              The key was created by an earlier identical request; its secret was shown then and cannot be shown again.
            </Notice>
          )}
          <Group justify="flex-end">
            <Button onClick={onClose}>I have kept it</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function CreateKey({ onCreated }: { onCreated(key: ApiKeyCreated): void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const nameError = name.trim().length > 200 ? 'At most 200 characters.' : undefined;
  return (
    <ConfirmAction
      label="Create API key"
      title="Create an API key"
      confirmLabel="Create key"
      invalid={name.trim() === '' || nameError !== undefined || scopes.length === 0}
      run={async () => {
        const answer = await api.post<ApiKeyCreated>('/v1/api-keys', { name: name.trim(), scopes });
        return answer;
      }}
      onDone={(answer) => {
        setName('');
        setScopes(['read']);
        onCreated(answer.data as ApiKeyCreated);
      }}
    >
      <TextInput
        label="Name"
        description="What the key is for."
        required
        value={name}
        error={nameError}
        onChange={(event) => setName(event.currentTarget.value)}
      />
      <Checkbox.Group
        label="Scopes"
        description="admin includes write; write includes read."
        value={scopes}
        onChange={setScopes}
        error={scopes.length === 0 ? 'Choose at least one scope.' : undefined}
      >
        <Stack gap={6} mt={6}>
          {SCOPES.map((scope) => (
            <Checkbox key={scope.value} value={scope.value} label={scope.label} />
          ))}
        </Stack>
      </Checkbox.Group>
    </ConfirmAction>
  );
}

export default function ApiKeysPage() {
  const list = usePagedList<ApiKey>('/v1/api-keys', {}, 50);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  // Keys revoked from this page keep their (now harmless) action until the page is left, so that the dialog that
  // revoked them stays open with its result.
  const [revokedHere, setRevokedHere] = useState<ReadonlySet<string>>(new Set());
  return (
    <Stack>
      <Title order={1}>API keys</Title>
      <Group>
        <CreateKey
          onCreated={(key) => {
            setCreated(key);
            list.reload();
          }}
        />
      </Group>
      <SecretDialog created={created} onClose={() => setCreated(null)} />
      <ErrorNotice error={list.error} />
      {list.loading && !list.data && <Loader size="sm" aria-label="Loading API keys" />}
      {list.data && (
        <Table.ScrollContainer minWidth={900}>
          <Table striped>
            <Table.Caption>API keys, newest first (secrets are never shown again)</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Key id</Table.Th>
                <Table.Th>Scopes</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Revoked</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.data.map((key) => (
                <Table.Tr key={key.id} data-testid={`api-key-${key.id}`}>
                  <Table.Td>{key.name}</Table.Td>
                  <Table.Td>
                    <Code c="dark.9">{key.id}</Code>
                  </Table.Td>
                  <Table.Td>{key.scopes.join(', ')}</Table.Td>
                  <Table.Td>
                    {key.bootstrap ? 'at start (bootstrap key)' : <DateTime value={key.created_at} />}
                  </Table.Td>
                  <Table.Td>{key.last_used_at ? <DateTime value={key.last_used_at} /> : 'never'}</Table.Td>
                  <Table.Td>
                    {key.revoked_at ? (
                      <Badge color="gray" variant="light" c="dark.8" tt="none" radius="sm">
                        revoked <DateTime value={key.revoked_at} />
                      </Badge>
                    ) : (
                      'active'
                    )}
                  </Table.Td>
                  <Table.Td>
                    {key.bootstrap ? (
                      <Text size="xs">Rotate through SETTLE_API_KEY</Text>
                    ) : key.revoked_at && !revokedHere.has(key.id) ? (
                      '—'
                    ) : (
                      <ConfirmAction
                        label="Revoke"
                        title={`Revoke the key ${key.name}`}
                        confirmLabel="Revoke key"
                        color="red"
                        run={() => api.post(`/v1/api-keys/${encodeURIComponent(key.id)}/revoke`)}
                        onDone={() => {
                          setRevokedHere((seen) => new Set([...seen, key.id]));
                          list.reload();
                        }}
                      >
                        <Text size="sm">
                          {key.name} ({key.id}) stops working at once here and within seconds on every other Settle
                          process. This cannot be undone.
                        </Text>
                      </ConfirmAction>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Pager list={list} label="API keys" />
    </Stack>
  );
}
