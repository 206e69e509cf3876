import type { ConsoleRoute } from '../../routes';

export const adminRoutes: ConsoleRoute[] = [];
