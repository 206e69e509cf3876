import { lazy } from 'react';
import type { ConsoleRoute } from '../../routes';

export const transactionsRoutes: ConsoleRoute[] = [
  {
    path: 'transactions',
    page: lazy(() => import('./TransactionsPage')),
    nav: { label: 'Transactions', group: 'Payments', order: 1 },
  },
  { path: 'transactions/:id', page: lazy(() => import('./TransactionPage')) },
];
