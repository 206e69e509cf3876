// Bearer API keys on every /v1 route (X3): missing or wrong key 401, key without the scope 403.
import type { FastifyInstance } from 'fastify';
import type { ApiKeyVerifier } from '../app/api-keys.js';
import { SettleError } from '../domain/errors.js';
import { requireScope } from './context.js';

export function registerAuth(app: FastifyInstance, verifier: ApiKeyVerifier): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/') || request.routeOptions.config?.public) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new SettleError('authentication', 'api_key_missing', 'Send an API key: Authorization: Bearer <key>.');
    }
    const principal = await verifier.verify(match[1]);
    if (!principal) throw new SettleError('authentication', 'api_key_invalid', 'The API key is not valid.');
    request.principal = principal;
    const needed = request.routeOptions.config?.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    requireScope(request, needed);
  });
}
