import { Anchor, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

export function NotFound() {
  return (
    <Stack>
      <Title order={1}>Page not found</Title>
      <Text>There is no console page at this address.</Text>
      <Anchor component={Link} to="/transactions">
        Go to the transactions
      </Anchor>
    </Stack>
  );
}
