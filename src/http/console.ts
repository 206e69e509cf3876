// The web console's files (packages/console, built by `npm run build` into its dist/): served at /console by the
// same server as the API, so the console calls the API same-origin with its session cookie and needs no CORS. `/`
// redirects there. These routes are public: they are the sign-in page and static files, and hold no data; every
// API call the console makes needs the session. A path that is not a file is a page of the console's own router
// (`/console/transactions/txn_...`), answered with index.html.
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DOCS_CSP, pageHeaders, type CspDirectives } from './security.js';

/** Where the built console is: packages/console/dist, two folders up from this file in src/http and in dist/http. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../packages/console/dist/', import.meta.url));

/**
 * The console's Content-Security-Policy: the same directives as the docs page's (DOCS_CSP), for the same reasons.
 * Scripts and styles are the built files of this origin only (no inline script, no eval); inline styles are allowed
 * because the component library (Mantine) writes its theme's CSS variables into a <style> element at run time. The
 * API is this origin; nothing may frame the console.
 */
export const CONSOLE_CSP: CspDirectives = { ...DOCS_CSP };

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file under `root` that `relative` names, or undefined when it is not a regular file inside it. */
async function fileIn(root: string, relative: string): Promise<string | undefined> {
  if (relative === '' || relative.endsWith('/')) return undefined;
  const path = resolve(root, relative);
  if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    return (await stat(path)).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

async function sendIndex(root: string, reply: FastifyReply): Promise<FastifyReply> {
  let html: Buffer;
  try {
    html = await readFile(resolve(root, 'index.html'));
  } catch {
    return reply
      .code(503)
      .header('Cache-Control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send('The console is not built. Run `npm run build` (npm install and npm start do), then reload.\n');
  }
  return reply.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(html);
}

export function consoleRoutes(root: string = DEFAULT_CONSOLE_DIR) {
  const base = resolve(root);
  const headers = pageHeaders(CONSOLE_CSP);
  return async (app: FastifyInstance): Promise<void> => {
    const page = { config: { public: true }, helmet: headers, schema: { hide: true } } as const;
    app.get('/', page, async (_request, reply) => reply.redirect('/console/', 302));
    app.get('/console', page, async (_request, reply) => reply.redirect('/console/', 302));
    app.get('/console/', page, async (_request, reply) => sendIndex(base, reply));
    app.get<{ Params: { '*': string } }>('/console/*', page, async (request, reply) => {
      const relative = request.params['*'];
      const file = await fileIn(base, relative);
      if (file === undefined) {
        // A missing asset is a 404 (a stale page asking for a file of an older build), not the app's HTML.
        if (relative.startsWith('assets/'))
          return reply.code(404).type('text/plain; charset=utf-8').send('Not found\n');
        return sendIndex(base, reply);
      }
      // Vite names built assets by their content's hash: they never change, so browsers may keep them.
      const immutable = relative.startsWith('assets/');
      return reply
        .header('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .type(CONTENT_TYPES[extname(file)] ?? 'application/octet-stream')
        .send(await readFile(file));
    });
  };
}
