// The audit trail: every change of configuration (settings, gateways, API keys, users), newest first, with who made
// it (a console user's email, an API key's name, cli or system), what and on which object; the before and after of
// each change on demand.
import { Button, Code, Loader, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { Fragment, useEffect, useState } from 'react';
import { api } from '../../api';
import { DateTime, ErrorNotice, Pager, usePagedList } from '../../components/data';
import { FilterForm, JsonBlock, type FilterField, type FilterValues } from '../operations/shared';

interface AuditEvent {
  id: string;
  object: 'audit_event';
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  before: unknown;
  after: unknown;
  created_at: string;
}

const ACTIONS = [
  'api_key.created',
  'api_key.revoked',
  'gateway.created',
  'gateway.updated',
  'settings.updated',
  'user.created',
  'user.updated',
  'user.password_reset',
] as const;

const FILTERS: FilterField[] = [
  { name: 'action', label: 'Action', kind: 'select', options: ACTIONS },
  { name: 'object_type', label: 'Object type', kind: 'select', options: ['settings', 'gateway', 'api_key', 'user'] },
  { name: 'actor', label: 'Actor id', kind: 'text', placeholder: 'usr_..., key_..., cli' },
  { name: 'object_id', label: 'Object id', kind: 'text' },
  { name: 'created_after', label: 'After', kind: 'datetime' },
  { name: 'created_before', label: 'Before', kind: 'datetime' },
];

/** The names of the actors (console users' emails, API keys' names), fetched once each. */
function useActorNames(actors: readonly string[]): ReadonlyMap<string, string> {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  const wanted = [...new Set(actors)].filter(
    (actor) => (actor.startsWith('usr_') || actor.startsWith('key_')) && !names.has(actor),
  );
  const key = wanted.join(',');
  useEffect(() => {
    if (key === '') return;
    let stopped = false;
    void Promise.all(
      key.split(',').map(async (actor): Promise<[string, string]> => {
        try {
          if (actor.startsWith('usr_')) {
            const user = await api.get<{ email: string }>(`/v1/users/${encodeURIComponent(actor)}`);
            return [actor, user.email];
          }
          const apiKey = await api.get<{ name: string }>(`/v1/api-keys/${encodeURIComponent(actor)}`);
          return [actor, `API key ${apiKey.name}`];
        } catch {
          return [actor, actor];
        }
      }),
    ).then((found) => {
      if (!stopped) setNames((current) => new Map([...current, ...found]));
    });
    return () => {
      stopped = true;
    };
  }, [key]);
  return names;
}

function Actor({ actor, names }: { actor: string; names: ReadonlyMap<string, string> }) {
  const name = names.get(actor);
  if (!name || name === actor) return <Text size="sm">{actor}</Text>;
  return (
    <Stack gap={0}>
      <Text size="sm">{name}</Text>
      <Text size="xs" c="dark.6">
        {actor}
      </Text>
    </Stack>
  );
}

/** The top-level fields whose values differ between before and after. */
function changedFields(event: AuditEvent): string[] {
  const before = (event.before ?? {}) as Record<string, unknown>;
  const after = (event.after ?? {}) as Record<string, unknown>;
  if (event.before === null) return [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => key !== 'updated_at' && JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

export default function AuditEventsPage() {
  const [filters, setFilters] = useState<FilterValues>({});
  const list = usePagedList<AuditEvent>('/v1/audit-events', filters, 50);
  const names = useActorNames(list.data?.data.map((event) => event.actor) ?? []);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Stack>
      <Title order={1}>Audit trail</Title>
      <FilterForm fields={FILTERS} onApply={setFilters} label="Audit event filters" />
      <ErrorNotice error={list.error} />
      {list.loading && !list.data && <Loader size="sm" aria-label="Loading audit events" />}
      {list.data && (
        <Table.ScrollContainer minWidth={900}>
          <Table>
            <Table.Caption>Audit events, newest first</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Time</Table.Th>
                <Table.Th>Who</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Target</Table.Th>
                <Table.Th>Changed</Table.Th>
                <Table.Th>Details</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.data.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={6}>No audit events match.</Table.Td>
                </Table.Tr>
              )}
              {list.data.data.map((event) => {
                const changed = changedFields(event);
                const shown = open === event.id;
                return (
                  <Fragment key={event.id}>
                    <Table.Tr data-testid={`audit-${event.id}`}>
                      <Table.Td>
                        <DateTime value={event.created_at} />
                      </Table.Td>
                      <Table.Td>
                        <Actor actor={event.actor} names={names} />
                      </Table.Td>
                      <Table.Td>
                        <Code c="dark.9">{event.action}</Code>
                      </Table.Td>
                      <Table.Td>
                        {event.object_type} {event.object_id}
                      </Table.Td>
                      <Table.Td>{event.before === null ? 'created' : changed.join(', ') || '—'}</Table.Td>
                      <Table.Td>
                        <Button
                          size="xs"
                          variant="default"
                          aria-expanded={shown}
                          aria-controls={`audit-details-${event.id}`}
                          onClick={() => setOpen(shown ? null : event.id)}
                        >
                          {shown ? 'Hide before/after' : 'Show before/after'}
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                    {shown && (
                      <Table.Tr id={`audit-details-${event.id}`}>
                        <Table.Td colSpan={6}>
                          <SimpleGrid cols={2}>
                            <Stack gap={4}>
                              <Text size="sm" fw={600}>
                                Before
                              </Text>
                              <JsonBlock value={event.before} label={`Before ${event.action}`} />
                            </Stack>
                            <Stack gap={4}>
                              <Text size="sm" fw={600}>
                                After
                              </Text>
                              <JsonBlock value={event.after} label={`After ${event.action}`} />
                            </Stack>
                          </SimpleGrid>
                        </Table.Td>
                      </Table.Tr>
                    )}
                  </Fragment>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Text size="xs">
        Who: a console user (usr_...), an API key (key_...), cli (the settle command) or system (Settle at start).
      </Text>
      <Pager list={list} label="Audit events" />
    </Stack>
  );
}
