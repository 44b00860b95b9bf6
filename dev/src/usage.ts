/**
 * `npm start -- --help`: what npm start starts, every variable it reads, the
 * ports and where the data goes — printed without starting anything.
 */
import { STACK_VARIABLES } from './config.js';

export function usage(): string {
  const width = Math.max(...STACK_VARIABLES.map((v) => v.name.length));
  const variables = STACK_VARIABLES.map(
    (v) => `  ${v.name.padEnd(width)}  ${v.defaultText.padEnd(22)} ${v.description}`,
  ).join('\n');
  return `Usage: npm start [-- --help]

Starts all of tollgate on this machine, in one process, with nothing else
to install:

  PostgreSQL   embedded, data in $DATA_DIR/postgres (or DATABASE_URL)
  Stripe       the offline emulator with a seeded catalogue (or real Stripe:
               STRIPE_SECRET_KEY + STRIPE_WEBHOOK_SECRET)
  auth         http://127.0.0.1:$AUTH_PORT
  billing      http://127.0.0.1:$BILLING_PORT, with its queue workers
  gateway      http://localhost:$GATEWAY_PORT  (/, /swagger, /admin, the APIs)

Ctrl+C stops everything. Logs: the terminal (readable lines when it is one,
JSON otherwise) and $DATA_DIR/logs/<service>.log.

Environment (variable, default, meaning):
${variables}

Each service's own variables (JWT lifetimes, admin login, ...) are read too:
see README.md, "Environment", and .env.example.
`;
}
