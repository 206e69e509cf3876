import { AppShell, Burger, Button, Group, NavLink, ScrollArea, Text, Title, VisuallyHidden } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { NAV_GROUPS, type ConsoleRoute } from '../routes';
import { useSession } from '../session';

export function Layout({ routes, children }: { routes: readonly ConsoleRoute[]; children: ReactNode }) {
  const { session, signOut, isAdmin } = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const entries = routes.filter((route) => route.nav && (!route.adminOnly || isAdmin));
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Text fw={700} size="lg" component={Link} to="/transactions" c="dark.8" td="none">
              Settle
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" c="dark.6" data-testid="signed-in-user">
              {session?.user.email} <VisuallyHidden>role</VisuallyHidden>({session?.user.role})
            </Text>
            <Button variant="subtle" size="xs" component={Link} to="/account/password">
              Change password
            </Button>
            <Button variant="outline" size="xs" onClick={() => void signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Console">
        <ScrollArea>
          {NAV_GROUPS.map((group) => {
            const items = entries
              .filter((route) => route.nav?.group === group)
              .sort((a, b) => (a.nav?.order ?? 0) - (b.nav?.order ?? 0));
            if (items.length === 0) return null;
            return (
              <nav key={group} aria-labelledby={`nav-${group}`}>
                <Title order={2} size="xs" c="dark.6" tt="uppercase" px="sm" pt="sm" pb={4} id={`nav-${group}`}>
                  {group}
                </Title>
                {items.map((route) => {
                  const to = `/${route.path}`;
                  const active = location.pathname === to || location.pathname.startsWith(`${to}/`);
                  return (
                    <NavLink
                      key={route.path}
                      component={Link}
                      to={to}
                      label={route.nav?.label}
                      active={active}
                      aria-current={active ? 'page' : undefined}
                      onClick={close}
                    />
                  );
                })}
              </nav>
            );
          })}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        {children}
      </AppShell.Main>
    </AppShell>
  );
}
