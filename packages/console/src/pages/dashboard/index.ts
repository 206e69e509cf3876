import type { ConsoleRoute } from '../../routes';

export const dashboardRoutes: ConsoleRoute[] = [];
