// Mantine's theme: its default blue at shade 8 for filled buttons and links, which keeps white text on it above
// WCAG AA's 4.5:1 (shade 6, the default, is below it for small text). Component defaults fix what axe-core finds in
// Mantine's own defaults: a modal's close button without a name, coloured alert text on a light fill below 4.5:1,
// and the light active nav link whose hover colour drops below it.
import { Alert, createTheme, Modal, NavLink } from '@mantine/core';

const DARK_TEXT = 'var(--mantine-color-dark-8)';

export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: 8,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  defaultRadius: 'sm',
  // Dialogs and menus appear without animation for users who ask their system for reduced motion (and in the
  // browser suite, whose axe checks would otherwise catch a dialog mid-fade, its text not yet at full contrast).
  respectReducedMotion: true,
  components: {
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } }),
    Alert: Alert.extend({ styles: { title: { color: DARK_TEXT }, message: { color: DARK_TEXT } } }),
    NavLink: NavLink.extend({ defaultProps: { variant: 'filled' } }),
  },
});
