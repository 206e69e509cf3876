// A wide table's horizontal scroller that the keyboard can reach (WCAG: a scrollable region must be focusable),
// named for screen readers.
import type { ReactNode } from 'react';

export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div role="region" aria-label={label} tabIndex={0} style={{ overflowX: 'auto' }}>
      {children}
    </div>
  );
}
