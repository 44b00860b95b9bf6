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

/** How to call the API, shown at the top of both OpenAPI documents in Swagger UI. */
export const API_INTRO = `**Authorize:** create an account with \`POST /v1/auth/register\`, log in with \`POST /v1/auth/login\`,
then press **Authorize** and paste the \`access_token\` it returns (no "Bearer " prefix) into *bearerAuth*.
Access tokens live 15 minutes: \`POST /v1/auth/refresh-token\` gives a new pair.

**Pay:** \`GET /api/v1/checkout?price_id=…\` (price ids from \`GET /api/v1/products\`) returns a Checkout URL; open it
and pay with the test card **4242 4242 4242 4242** (any future expiry, any CVC; 4000 0000 0000 0002 is declined).
The role the plan grants appears in \`GET /v1/role/user\` within seconds.

Errors are RFC 9457 problems; each \`type\` is a page that says what to do ([all error codes](/problems)).
The same flow in a browser: [the home page](/).`;

/** @fastify/swagger-ui options that make Swagger UI tollgate's: title, mark, favicon, colours. */
export function swaggerUiBranding() {
  const logo = Buffer.from(LOGO_SVG);
  return {
    logo: { type: 'image/svg+xml', content: logo, href: '/', target: '_self' as const },
    theme: {
      title: 'tollgate API',
      favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: logo }],
      css: [
        {
          filename: 'tollgate.css',
          content: `.swagger-ui .topbar{background:${BRAND.primaryDark}}
.swagger-ui .topbar .link img{height:40px}
.swagger-ui .topbar .download-url-wrapper .select-label{color:#fff}
.swagger-ui .topbar .download-url-wrapper .select-label select{border-color:${BRAND.accent}}
.swagger-ui .info .title{color:${BRAND.ink}}
.swagger-ui .btn.authorize{color:${BRAND.primary};border-color:${BRAND.primary}}
.swagger-ui .btn.authorize svg{fill:${BRAND.primary}}
.swagger-ui .info a{color:${BRAND.primary}}`,
        },
      ],
    },
  };
}
