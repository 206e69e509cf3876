import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { useSession } from '../session';

/** `required`: the first sign-in with a generated password, shown instead of the console until it is changed. */
export function ChangePassword({ required }: { required: boolean }) {
  const { refresh, signOut } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    if (next !== repeat) {
      setError('The new password and its repetition differ.');
      return;
    }
    setBusy(true);
    try {
      await api.post('/v1/sessions/current/password', { current_password: current, new_password: next });
      setDone(true);
      setCurrent('');
      setNext('');
      setRepeat('');
      await refresh();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }

  const form = (
    <Paper withBorder shadow="sm" p="xl" w={420}>
      <form onSubmit={(event) => void submit(event)} aria-labelledby="password-title">
        <Stack>
          <Title order={1} size="h3" id="password-title">
            {required ? 'Choose your password' : 'Change your password'}
          </Title>
          {required && <Text size="sm">Your password was generated for you. Choose your own to continue.</Text>}
          {error && (
            <Alert color="red" role="alert" title="Password not changed">
              {error}
            </Alert>
          )}
          {done && !required && (
            <Alert color="green" role="status" title="Password changed">
              Your other sessions have been signed out.
            </Alert>
          )}
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(event) => setCurrent(event.currentTarget.value)}
          />
          <PasswordInput
            label="New password"
            description="12 to 256 characters."
            autoComplete="new-password"
            required
            minLength={12}
            value={next}
            onChange={(event) => setNext(event.currentTarget.value)}
          />
          <PasswordInput
            label="Repeat the new password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(event) => setRepeat(event.currentTarget.value)}
          />
          <Button type="submit" loading={busy}>
            Change password
          </Button>
          {required && (
            <Button variant="subtle" onClick={() => void signOut()}>
              Sign out
            </Button>
          )}
        </Stack>
      </form>
    </Paper>
  );
  return required ? (
    <Center mih="100vh" bg="gray.0">
      <main>{form}</main>
    </Center>
  ) : (
    form
  );
}
