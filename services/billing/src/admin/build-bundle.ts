/**
 * `npm run build` (tools/build.mjs) runs this once, with NODE_ENV=production and
 * ADMIN_JS_TMP_DIR=dist/adminjs: AdminJS bundles the panel's components into
 * dist/adminjs/bundle.js, which production then serves as it is (./mount.ts)
 * instead of loading Rollup and Babel to bundle them at every start.
 */
import AdminJS from 'adminjs';
import { adminComponents } from './components.js';

const { componentLoader } = adminComponents();
await new AdminJS({ componentLoader }).initialize();
