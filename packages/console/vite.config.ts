// Built by `npm run build` (npm install and npm start run it) into dist/, which settle serve serves at /console.
// Every page but the shell is its own chunk (React.lazy), so the first load carries only what the sign-in and the
// transactions list need; the chart library is loaded by the dashboard alone.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // Scripts are files (the console's CSP allows no inline script); no module preload polyfill is injected inline.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
