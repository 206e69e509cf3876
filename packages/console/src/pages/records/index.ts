// The Records area: payment methods, accounts, contacts, parents, invoices, orders, disputes (nav group Records)
// and payouts (nav group Payments), each a paged list and a detail page by id.
import { lazy } from 'react';
import type { ConsoleRoute } from '../../routes';

export const recordsRoutes: ConsoleRoute[] = [
  {
    path: 'payouts',
    page: lazy(() => import('./PayoutsPage')),
    nav: { label: 'Payouts', group: 'Payments', order: 5 },
  },
  { path: 'payouts/:id', page: lazy(() => import('./PayoutPage')) },
  {
    path: 'accounts',
    page: lazy(() => import('./AccountsPage')),
    nav: { label: 'Accounts', group: 'Records', order: 1 },
  },
  { path: 'accounts/:id', page: lazy(() => import('./AccountPage')) },
  {
    path: 'contacts',
    page: lazy(() => import('./ContactsPage')),
    nav: { label: 'Contacts', group: 'Records', order: 2 },
  },
  { path: 'contacts/:id', page: lazy(() => import('./ContactPage')) },
  {
    path: 'payment-methods',
    page: lazy(() => import('./PaymentMethodsPage')),
    nav: { label: 'Payment methods', group: 'Records', order: 3 },
  },
  { path: 'payment-methods/:id', page: lazy(() => import('./PaymentMethodPage')) },
  {
    path: 'parents',
    page: lazy(() => import('./ParentsPage')),
    nav: { label: 'Parents', group: 'Records', order: 4 },
  },
  { path: 'parents/:id', page: lazy(() => import('./ParentPage')) },
  {
    path: 'invoices',
    page: lazy(() => import('./InvoicesPage')),
    nav: { label: 'Invoices', group: 'Records', order: 5 },
  },
  { path: 'invoices/:id', page: lazy(() => import('./InvoicePage')) },
  {
    path: 'orders',
    page: lazy(() => import('./OrdersPage')),
    nav: { label: 'Orders', group: 'Records', order: 6 },
  },
  { path: 'orders/:id', page: lazy(() => import('./OrderPage')) },
  {
    path: 'disputes',
    page: lazy(() => import('./DisputesPage')),
    nav: { label: 'Disputes', group: 'Records', order: 7 },
  },
  { path: 'disputes/:id', page: lazy(() => import('./DisputePage')) },
];
