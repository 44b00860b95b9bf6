/**
 * How tollgate looks, in one place: the mark (an inline SVG, so pages load
 * nothing from elsewhere and work offline), the colours, and the system font
 * stack (no web fonts). Billing's pages, the home page and Swagger UI use it.
 */
export const BRAND = {
  name: 'tollgate',
  /** Deep teal: header, buttons, links. */
  primary: '#0e6b5c',
  primaryDark: '#0a4a40',
  /** Amber: the barrier arm, highlights. */
  accent: '#f2a413',
  ink: '#1d2724',
  muted: '#5b6b66',
  paper: '#f6f8f7',
  line: '#d9e2df',
  danger: '#b42318',
  font: "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
} as const;

/** The mark: a toll barrier (post and striped arm) on a rounded teal square. */
export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img" aria-label="tollgate"><rect width="64" height="64" rx="14" fill="${BRAND.primary}"/><rect x="12" y="18" width="8" height="34" rx="2" fill="#fff"/><rect x="20" y="22" width="34" height="9" rx="3" fill="${BRAND.accent}"/><path d="M27 22h6l-4 9h-6zM39 22h6l-4 9h-6z" fill="#fff"/><circle cx="16" cy="26" r="3" fill="${BRAND.primary}"/></svg>`;

/** The mark as a data: URL (favicons, <img> where inline SVG is awkward). */
export const LOGO_DATA_URL = `data:image/svg+xml;base64,${Buffer.from(LOGO_SVG).toString('base64')}`;
