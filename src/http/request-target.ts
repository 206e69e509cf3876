// Canonical request targets: a request whose target is not a plain path is refused with 400 before routing decides
// anything. The router decodes percent-encodings and Fastify accepts absolute-form targets, so a variant of a path
// (`/%761/transactions`, `http://host/v1/transactions`) could otherwise reach a route that a check on the raw URL
// did not recognise. Settle's paths need none of what is refused here: ids are [a-z0-9_] and every route is
// made of letters, digits and - _ . ~ between single slashes.
//
// How: Fastify calls `rewriteUrl` (a server option) on every request before the router sees it. A refused target
// is recorded and replaced by a path no route has, and `refuseNonCanonicalTargets`' onRequest hook, which runs before
// every hook that decides anything (helmet's headers come first), answers the recorded 400 in the API's error shape.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../domain/errors.js';

export interface TargetProblem {
  code: 'invalid_request_target' | 'invalid_path';
  message: string;
}

/** What the router is given instead of a refused target: a path that no route has (its dot segment is refused). */
export const REFUSED_TARGET_PATH = '/.refused-request-target';

/** The characters a path may hold besides '/': RFC 3986's unreserved characters. */
const PATH_CHARACTERS = /^[A-Za-z0-9._~/-]*$/;

/** Why a request target is refused, or undefined when it is a canonical origin-form path (with any query). */
export function requestTargetProblem(target: string): TargetProblem | undefined {
  if (!target.startsWith('/')) {
    return {
      code: 'invalid_request_target',
      message:
        "The request target must be a path starting with '/' (origin-form); absolute URLs and '*' are not accepted.",
    };
  }
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  if (path.includes('%')) {
    return {
      code: 'invalid_path',
      message: "The path must not contain percent-encoded characters ('%'); no Settle path needs one.",
    };
  }
  if (!PATH_CHARACTERS.test(path)) {
    return { code: 'invalid_path', message: "The path may contain only letters, digits, '-', '.', '_', '~' and '/'." };
  }
  if (path.includes('//'))
    return { code: 'invalid_path', message: "The path must not contain an empty segment ('//')." };
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    return { code: 'invalid_path', message: "The path must not contain '.' or '..' segments." };
  }
  return undefined;
}

const refused = new WeakMap<IncomingMessage, TargetProblem>();

/** Fastify's `rewriteUrl` server option: canonical targets pass unchanged; any other is recorded and made unroutable. */
export function rewriteRequestTarget(request: IncomingMessage): string {
  const target = request.url ?? '';
  const problem = requestTargetProblem(target);
  if (!problem) return target;
  refused.set(request, problem);
  return REFUSED_TARGET_PATH;
}

/**
 * Answers 400 to a request whose target `rewriteRequestTarget` refused. Register it before every hook that decides
 * anything (only headers may come first); it runs for unmatched requests too, before the not-found handler.
 */
export function refuseNonCanonicalTargets(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const problem = refused.get(request.raw);
    if (!problem) return;
    // Fastify's own request log shows the replacement path; this line keeps what was sent (a probe, usually).
    const sent = (request.raw as IncomingMessage & { originalUrl?: string }).originalUrl ?? '';
    request.log.info({ target: sent.slice(0, 512), code: problem.code }, 'request target refused');
    throw new ValidationError(problem.code, problem.message);
  });
}
