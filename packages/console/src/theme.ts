// Mantine's theme: its default blue at shade 8 for filled buttons and links, which keeps white text on it above
// WCAG AA's 4.5:1 (shade 6, the default, is below it for small text).
import { createTheme } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: 8,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  defaultRadius: 'sm',
});
