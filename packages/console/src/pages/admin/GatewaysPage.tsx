// Gateways, read-only: name, provider, mode, default, settlement currency, rate limits and which credentials are
// configured (by the names of their environment variables; the secrets themselves are never returned).
import { Badge, Code, Loader, Stack, Table, Text, Title } from '@mantine/core';
import { DateTime, ErrorNotice, Pager, usePagedList } from '../../components/data';

interface Gateway {
  id: string;
  object: 'gateway';
  name: string;
  provider: string;
  mode: string;
  is_default: boolean;
  settlement_currency: string;
  rate_limit_per_second: number;
  endpoint_rate_limit_per_second: number;
  secret_key_env: string | null;
  webhook_secret_env: string | null;
  credentials_configured: boolean;
  webhook_secret_configured: boolean;
  api_base: string | null;
  is_emulator: boolean;
  created_at: string;
}

function Configured({ name, configured }: { name: string | null; configured: boolean }) {
  if (!name) return <Text size="sm">—</Text>;
  return (
    <Text size="sm">
      <Code c="dark.9">{name}</Code> {configured ? 'set' : 'not set'}
    </Text>
  );
}

export default function GatewaysPage() {
  const list = usePagedList<Gateway>('/v1/gateways', {}, 50);
  return (
    <Stack>
      <Title order={1}>Gateways</Title>
      <Text size="sm">
        Read-only here: gateways are created and changed through the API (POST and PATCH /v1/gateways, admin scope).
      </Text>
      <ErrorNotice error={list.error} />
      {list.loading && !list.data && <Loader size="sm" aria-label="Loading gateways" />}
      {list.data && (
        <Table.ScrollContainer minWidth={1000}>
          <Table striped>
            <Table.Caption>Gateways</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Provider</Table.Th>
                <Table.Th>Mode</Table.Th>
                <Table.Th>Settlement currency</Table.Th>
                <Table.Th>Rate limits (per second)</Table.Th>
                <Table.Th>API key variable</Table.Th>
                <Table.Th>Webhook secret variable</Table.Th>
                <Table.Th>API base</Table.Th>
                <Table.Th>Created</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.data.map((gateway) => (
                <Table.Tr key={gateway.id}>
                  <Table.Td>
                    <Text size="sm" fw={600} component="div">
                      {gateway.name}{' '}
                      {gateway.is_default && (
                        <Badge color="blue" variant="light" c="dark.8" tt="none" radius="sm">
                          default
                        </Badge>
                      )}
                    </Text>
                    <Text size="xs" c="dark.6">
                      {gateway.id}
                      {gateway.is_emulator ? ' (built-in emulator)' : ''}
                    </Text>
                  </Table.Td>
                  <Table.Td>{gateway.provider}</Table.Td>
                  <Table.Td>{gateway.mode}</Table.Td>
                  <Table.Td>{gateway.settlement_currency.toUpperCase()}</Table.Td>
                  <Table.Td>
                    {gateway.rate_limit_per_second} overall, {gateway.endpoint_rate_limit_per_second || 'no limit'} per
                    endpoint
                  </Table.Td>
                  <Table.Td>
                    <Configured name={gateway.secret_key_env} configured={gateway.credentials_configured} />
                  </Table.Td>
                  <Table.Td>
                    <Configured name={gateway.webhook_secret_env} configured={gateway.webhook_secret_configured} />
                  </Table.Td>
                  <Table.Td>{gateway.api_base ?? 'the provider'}</Table.Td>
                  <Table.Td>
                    <DateTime value={gateway.created_at} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Pager list={list} label="Gateways" />
    </Stack>
  );
}
