import { lazy } from 'react';
import type { ConsoleRoute } from '../../routes';

export const adminRoutes: ConsoleRoute[] = [
  {
    path: 'settings',
    page: lazy(() => import('./SettingsPage')),
    nav: { label: 'Settings', group: 'Administration', order: 10 },
    adminOnly: true,
  },
  {
    path: 'api-keys',
    page: lazy(() => import('./ApiKeysPage')),
    nav: { label: 'API keys', group: 'Administration', order: 20 },
    adminOnly: true,
  },
  {
    path: 'users',
    page: lazy(() => import('./UsersPage')),
    nav: { label: 'Users', group: 'Administration', order: 30 },
    adminOnly: true,
  },
  {
    path: 'audit-events',
    page: lazy(() => import('./AuditEventsPage')),
    nav: { label: 'Audit trail', group: 'Administration', order: 40 },
    adminOnly: true,
  },
  {
    path: 'gateways',
    page: lazy(() => import('./GatewaysPage')),
    nav: { label: 'Gateways', group: 'Administration', order: 50 },
    adminOnly: true,
  },
];
