/** What other workspaces use of the dev stack: the dev gateway and its route table. */
export { buildGateway, type GatewayOptions } from './gateway.js';
export {
  FORBIDDEN_PREFIX,
  isForbidden,
  normalizePath,
  ROUTES,
  type Route,
  routeFor,
  type Upstream,
} from './routes.js';
