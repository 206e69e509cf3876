import type { ConsoleRoute } from '../../routes';

export const recordsRoutes: ConsoleRoute[] = [];
