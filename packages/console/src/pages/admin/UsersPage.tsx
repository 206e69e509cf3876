// Console users: the list, creating one (a generated password is shown once), changing a role, disabling and
// enabling, and resetting a password (the new generated password is shown once).
import {
  Badge,
  Button,
  Group,
  Loader,
  Modal,
  NativeSelect,
  PasswordInput,
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
import { useSession } from '../../session';

export interface User {
  id: string;
  object: 'user';
  email: string;
  role: string;
  disabled: boolean;
  must_change_password: boolean;
  last_sign_in_at: string | null;
  created_at: string;
  updated_at: string;
}

interface UserWithPassword extends User {
  password: string | null;
}

const ROLES = [
  { value: 'viewer', label: 'viewer (reads)' },
  { value: 'operator', label: 'operator (reads and acts)' },
  { value: 'admin', label: 'admin (also settings, keys, users)' },
];

const EMAIL_SHAPE = /^[^@\s]+@[^@\s]+$/;

/** A generated password, shown once after a create or a reset. */
function PasswordDialog({ shown, onClose }: { shown: { user: User; password: string } | null; onClose(): void }) {
  return (
    <Modal
      opened={shown !== null}
      onClose={onClose}
      title="Generated password"
      centered
      size="lg"
      zIndex={300}
      closeButtonProps={CLOSE_BUTTON_PROPS}
    >
      {shown && (
        <Stack>
          <Notice color="yellow" title="Shown once" role="status">
            Settle shows this password only now. Give it to {shown.user.email} by a safe channel: they must choose their
            own password at their first sign-in.
          </Notice>
          <SecretOnce
            value={shown.password}
            label="The generated password"
            testId="generated-password"
            copyLabel="Copy the password"
          >
            <Button onClick={onClose}>I have kept it</Button>
          </SecretOnce>
        </Stack>
      )}
    </Modal>
  );
}

function CreateUser({ onCreated }: { onCreated(user: UserWithPassword): void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const [password, setPassword] = useState('');
  const emailError =
    email.trim() !== '' && !EMAIL_SHAPE.test(email.trim()) ? 'An email address (name@domain).' : undefined;
  const length = [...password].length;
  const passwordError =
    password !== '' && (length < 12 || length > 256) ? '12 to 256 characters, or leave it empty.' : undefined;
  return (
    <ConfirmAction
      label="Create user"
      title="Create a console user"
      confirmLabel="Create user"
      invalid={email.trim() === '' || emailError !== undefined || passwordError !== undefined}
      run={() =>
        api.post<UserWithPassword>('/v1/users', {
          email: email.trim(),
          role,
          ...(password === '' ? {} : { password }),
        })
      }
      onDone={(answer) => {
        setEmail('');
        setPassword('');
        setRole('viewer');
        onCreated(answer.data as UserWithPassword);
      }}
    >
      <TextInput
        label="Email"
        type="email"
        required
        value={email}
        error={emailError}
        onChange={(event) => setEmail(event.currentTarget.value)}
      />
      <NativeSelect label="Role" value={role} onChange={(event) => setRole(event.currentTarget.value)} data={ROLES} />
      <PasswordInput
        label="Password (optional)"
        description="Leave empty: Settle generates one, shows it once, and the user must change it at first sign-in."
        value={password}
        error={passwordError}
        onChange={(event) => setPassword(event.currentTarget.value)}
      />
    </ConfirmAction>
  );
}

function ChangeRole({ user, onDone }: { user: User; onDone(): void }) {
  const [role, setRole] = useState(user.role);
  return (
    <ConfirmAction
      label="Change role"
      title={`Change the role of ${user.email}`}
      confirmLabel="Save role"
      variant="default"
      invalid={role === user.role}
      run={() => api.patch(`/v1/users/${encodeURIComponent(user.id)}`, { role })}
      onDone={onDone}
    >
      <NativeSelect
        label="New role"
        value={role}
        onChange={(event) => setRole(event.currentTarget.value)}
        data={ROLES}
      />
    </ConfirmAction>
  );
}

export default function UsersPage() {
  const { session } = useSession();
  const list = usePagedList<User>('/v1/users', {}, 50);
  const [shown, setShown] = useState<{ user: User; password: string } | null>(null);
  const me = session?.user.id;

  function passwordOnce(user: UserWithPassword) {
    if (user.password) setShown({ user, password: user.password });
  }

  return (
    <Stack>
      <Title order={1}>Users</Title>
      <Group>
        <CreateUser
          onCreated={(user) => {
            passwordOnce(user);
            list.reload();
          }}
        />
      </Group>
      <PasswordDialog shown={shown} onClose={() => setShown(null)} />
      <ErrorNotice error={list.error} />
      {list.loading && !list.data && <Loader size="sm" aria-label="Loading users" />}
      {list.data && (
        <Table.ScrollContainer minWidth={1000}>
          <Table striped>
            <Table.Caption>Console users, newest first</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Email</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Last sign-in</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.data.map((user) => (
                <Table.Tr key={user.id} data-testid={`user-${user.email}`}>
                  <Table.Td>
                    <Text size="sm">{user.email}</Text>
                    <Text size="xs" c="dark.6">
                      {user.id}
                      {user.id === me ? ' (you)' : ''}
                    </Text>
                  </Table.Td>
                  <Table.Td>{user.role}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      <Badge color={user.disabled ? 'red' : 'green'} variant="light" c="dark.8" tt="none" radius="sm">
                        {user.disabled ? 'disabled' : 'active'}
                      </Badge>
                      {user.must_change_password && (
                        <Badge color="yellow" variant="light" c="dark.8" tt="none" radius="sm">
                          must change password
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>{user.last_sign_in_at ? <DateTime value={user.last_sign_in_at} /> : 'never'}</Table.Td>
                  <Table.Td>
                    <DateTime value={user.created_at} />
                  </Table.Td>
                  <Table.Td>
                    {user.id === me ? (
                      <Text size="xs">Your own account: use Change password above.</Text>
                    ) : (
                      <Group gap={6} wrap="nowrap">
                        <ChangeRole user={user} onDone={list.reload} />
                        <ConfirmAction
                          label={user.disabled ? 'Enable' : 'Disable'}
                          title={`Sign-in access of ${user.email}`}
                          confirmLabel={user.disabled ? 'Enable user' : 'Disable user'}
                          color={user.disabled ? undefined : 'red'}
                          variant={user.disabled ? 'filled' : 'light'}
                          run={() =>
                            api.patch(`/v1/users/${encodeURIComponent(user.id)}`, { disabled: !user.disabled })
                          }
                          onDone={list.reload}
                        >
                          <Text size="sm">
                            {user.disabled
                              ? `${user.email} will be able to sign in again.`
                              : `${user.email} can no longer sign in, and their sessions end at once.`}
                          </Text>
                        </ConfirmAction>
                        <ConfirmAction
                          label="Reset password"
                          title={`Reset the password of ${user.email}`}
                          confirmLabel="Reset password"
                          variant="default"
                          run={() =>
                            api.post<UserWithPassword>(`/v1/users/${encodeURIComponent(user.id)}/reset-password`)
                          }
                          onDone={(answer) => {
                            passwordOnce(answer.data as UserWithPassword);
                            list.reload();
                          }}
                        >
                          <Text size="sm">
                            Settle generates a new password and shows it once; {user.email} must change it at their next
                            sign-in, and their sessions end now.
                          </Text>
                        </ConfirmAction>
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Pager list={list} label="Users" />
    </Stack>
  );
}
