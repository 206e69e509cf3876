import '@mantine/core/styles.css';
import './console.css';
import { MantineProvider } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App';
import { SessionProvider } from './session';
import { theme } from './theme';

// The transactions list is the page most sign-ins open: fetch its chunk while the session is being checked rather
// than after (React.lazy's import of it then finds the module already loading).
if (/^\/console\/?(transactions\/?)?$/.test(window.location.pathname)) {
  void import('./pages/transactions/TransactionsPage');
}

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing');
createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="light">
      <BrowserRouter basename="/console">
        <SessionProvider>
          <App />
        </SessionProvider>
      </BrowserRouter>
    </MantineProvider>
  </StrictMode>,
);
