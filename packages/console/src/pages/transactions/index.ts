import type { ConsoleRoute } from '../../routes';

export const transactionsRoutes: ConsoleRoute[] = [];
