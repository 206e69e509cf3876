// The console's shell: the sign-in (and the password change a generated password owes) before anything else, then
// the navigation and the pages, each loaded when first opened.
import { Center, Loader } from '@mantine/core';
import { Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { NotFound } from './components/NotFound';
import { ChangePassword } from './pages/ChangePassword';
import { SignIn } from './pages/SignIn';
import { adminRoutes } from './pages/admin';
import { dashboardRoutes } from './pages/dashboard';
import { operationsRoutes } from './pages/operations';
import { recordsRoutes } from './pages/records';
import { transactionsRoutes } from './pages/transactions';
import type { ConsoleRoute } from './routes';
import { useSession } from './session';

export const ROUTES: readonly ConsoleRoute[] = [
  ...transactionsRoutes,
  ...dashboardRoutes,
  ...recordsRoutes,
  ...operationsRoutes,
  ...adminRoutes,
];

function Loading() {
  return (
    <Center h="60vh" aria-live="polite">
      <Loader role="status" aria-label="Loading" />
    </Center>
  );
}

export function App() {
  const { session, isAdmin } = useSession();
  if (session === undefined) return <Loading />;
  if (session === null) return <SignIn />;
  if (session.user.must_change_password) return <ChangePassword required />;
  return (
    <Layout routes={ROUTES}>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route index element={<Navigate to="/transactions" replace />} />
          <Route path="account/password" element={<ChangePassword required={false} />} />
          {ROUTES.filter((route) => !route.adminOnly || isAdmin).map((route) => (
            <Route key={route.path} path={route.path} element={<route.page />} />
          ))}
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Suspense>
    </Layout>
  );
}
