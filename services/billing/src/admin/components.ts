/** The panel's own React components, as AdminJS's component loader knows them. */
import path from 'node:path';
import { ComponentLoader } from 'adminjs';
import { registerComponents } from './resources.js';

export function adminComponents() {
  const componentLoader = new ComponentLoader();
  const componentDir = path.join(import.meta.dirname, 'components');
  const Dashboard = componentLoader.add('Dashboard', path.join(componentDir, 'dashboard.tsx'));
  const components = registerComponents(componentLoader, componentDir);
  return { componentLoader, Dashboard, components };
}
