import { lazy } from 'react';
import type { ConsoleRoute } from '../../routes';

export const dashboardRoutes: ConsoleRoute[] = [
  {
    path: 'dashboard',
    page: lazy(() => import('./DashboardPage')),
    nav: { label: 'Dashboard', group: 'Payments', order: 0 },
  },
];
