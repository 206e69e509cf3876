// What the console's pages register: a path under /console, the navigation entry and who may open it.
import type { ComponentType, LazyExoticComponent } from 'react';

export interface ConsoleRoute {
  /** Relative to /console, without a leading slash; may have parameters (`transactions/:id`). */
  path: string;
  page: LazyExoticComponent<ComponentType>;
  /** Shown in the navigation (under `group`) when given; detail pages have none. */
  nav?: { label: string; group: NavGroup; order: number };
  /** Only admins see and open it (the API refuses the others anyway). */
  adminOnly?: boolean;
}

export type NavGroup = 'Payments' | 'Records' | 'Operations' | 'Administration';

export const NAV_GROUPS: readonly NavGroup[] = ['Payments', 'Records', 'Operations', 'Administration'];
