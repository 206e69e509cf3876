import { lazy } from 'react';
import type { ConsoleRoute } from '../../routes';

export const operationsRoutes: ConsoleRoute[] = [
  {
    path: 'webhook-events',
    page: lazy(() => import('./WebhookEventsPage')),
    nav: { label: 'Webhook events', group: 'Operations', order: 10 },
  },
  { path: 'webhook-events/:id', page: lazy(() => import('./WebhookEventPage')) },
  { path: 'jobs', page: lazy(() => import('./JobsPage')), nav: { label: 'Jobs', group: 'Operations', order: 20 } },
  { path: 'job-runs/:id', page: lazy(() => import('./JobRunPage')) },
  {
    path: 'gateway-logs',
    page: lazy(() => import('./GatewayLogsPage')),
    nav: { label: 'Gateway logs', group: 'Operations', order: 30 },
  },
  { path: 'gateway-logs/:id', page: lazy(() => import('./GatewayLogPage')) },
];
