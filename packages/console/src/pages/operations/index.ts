import type { ConsoleRoute } from '../../routes';

export const operationsRoutes: ConsoleRoute[] = [];
