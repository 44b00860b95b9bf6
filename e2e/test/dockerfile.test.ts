/**
 * docker/Dockerfile, checked without a Docker engine (there is none on these
 * machines, and hadolint is in neither npm nor Debian): the file is parsed
 * with dockerfile-ast and held to what the images promise
 * (architecture/decisions/0020-production-build.md). Not verified here:
 * that `docker build` succeeds and the image starts; the nearest proof is
 * test/production-build.test.ts, which runs the same build output with the
 * same launcher (tools/run-node.sh) on plain node.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { type Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../src/production.js';

const SERVICES = ['auth', 'billing', 'stripe-emulator'];
const text = readFileSync(path.join(ROOT, 'docker', 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(text);
const froms = dockerfile.getFROMs();
const stages = froms.map((from) => from.getBuildStage());
const lockfile = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));

/** The instructions of one stage, in order. */
function stage(name: string): Instruction[] {
  const index = stages.indexOf(name);
  const start = froms[index]!.getRange().start.line;
  const end = froms[index + 1]?.getRange().start.line ?? Number.POSITIVE_INFINITY;
  return dockerfile.getInstructions().filter((i) => {
    const line = i.getRange().start.line;
    return line >= start && line < end;
  });
}
const args = (instruction: Instruction) => instruction.getArgumentsContent() ?? '';
const keyword = (instructions: Instruction[], word: string) =>
  instructions.filter((i) => i.getKeyword() === word);

describe('docker/Dockerfile', () => {
  it('is three stages, build -> prod -> runtime, each on the pinned Node image', () => {
    expect(stages).toEqual(['build', 'prod', 'runtime']);
    for (const from of froms) expect(from.getImage()).toBe(`\${NODE_IMAGE}`);
    const [nodeImage] = dockerfile
      .getInitialARGs()
      .filter((arg) => arg.getProperty()?.getName() === 'NODE_IMAGE');
    // An exact version, and the one the repository runs its tests on (the root `node` devDependency).
    expect(nodeImage?.getProperty()?.getValue()).toBe(
      `node:${lockfile.packages['node_modules/node'].version}-bookworm-slim`,
    );
  });

  it('declares SERVICE in every stage that uses it (a global ARG is not visible inside a stage)', () => {
    for (const name of stages) {
      const instructions = stage(name!);
      const uses = instructions.some((i) => /\$\{?SERVICE\b/.test(args(i)) && i.getKeyword() !== 'ARG');
      if (uses) expect(keyword(instructions, 'ARG').map(args).join(' '), name!).toMatch(/\bSERVICE\b/);
    }
  });

  it('builds with `npm run build` (tools/build.mjs) for the chosen service', () => {
    expect(keyword(stage('build'), 'RUN').map(args).join('\n')).toContain(
      `node tools/build.mjs "\${SERVICE}"`,
    );
  });

  it('installs production dependencies only for the image', () => {
    const install = keyword(stage('prod'), 'RUN').map(args).join('\n');
    expect(install).toMatch(/npm ci --omit=dev .*--workspace "@tollgate\/\$\{SERVICE\}"/);
    // Nothing TypeScript is left beside the output.
    expect(install).toMatch(/find "services\/\$\{SERVICE\}\/src" .*'\*\.ts'.*'\*\.tsx'.* -delete/);
  });

  it('copies nothing from the build stage into the runtime image (dev dependencies live there)', () => {
    const copies = keyword(stage('runtime'), 'COPY') as Copy[];
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy.getFromFlag()?.getValue(), args(copy)).toBe('prod');
    expect(copies.map(args).join('\n')).not.toMatch(/tsx|esbuild|\/src\b/);
  });

  it('runs the build output with node through tools/run-node.sh, as a non-root user', () => {
    const runtime = stage('runtime');
    const users = keyword(runtime, 'USER').map(args);
    expect(users.at(-1)).toBe('node');
    const [cmd] = keyword(runtime, 'CMD');
    expect(JSON.parse(args(cmd!))).toEqual(['/app/tools/run-node.sh', 'dist/server.js']);
    expect(keyword(runtime, 'ENTRYPOINT')).toEqual([]);
    expect(keyword(runtime, 'ENV').map(args).join(' ')).toContain('NODE_ENV=production');
    expect(statSync(path.join(ROOT, 'tools', 'run-node.sh')).mode & 0o111).not.toBe(0);
    expect(readFileSync(path.join(ROOT, 'tools', 'run-node.sh'), 'utf8')).toMatch(/^exec node /m);
  });

  it('has a HEALTHCHECK on the readiness probe', () => {
    const [healthcheck] = keyword(stage('runtime'), 'HEALTHCHECK');
    expect(args(healthcheck!)).toContain('/health/ready');
  });

  it('is what docker-compose.yml builds, once per service', () => {
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { build?: { dockerfile?: string; args?: Record<string, string> } }>;
    };
    const built = Object.entries(compose.services).filter(([, service]) => service.build);
    expect(built.map(([name]) => name).sort()).toEqual([...SERVICES].sort());
    for (const [name, service] of built) {
      expect(service.build).toMatchObject({ dockerfile: 'docker/Dockerfile', args: { SERVICE: name } });
    }
    expect(
      readdirSync(path.join(ROOT, 'services')).filter((d) =>
        existsSync(path.join(ROOT, 'services', d, 'Dockerfile')),
      ),
    ).toEqual([]);
  });

  it('has a .dockerignore that keeps local modules, builds and secrets out of the context', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '**/.env', '**/.keys', '.git'])
      expect(ignored).toContain(entry);
  });
});

/** Dependencies (not dev) of a workspace package and of the workspace packages it depends on. */
function productionDependencies(dir: string, seen = new Set<string>()): Set<string> {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (name.startsWith('@tollgate/')) {
      const location = lockfile.packages[`node_modules/${name}`]?.resolved as string | undefined;
      if (location) productionDependencies(path.join(ROOT, location), seen);
    }
  }
  return seen;
}

describe.each(SERVICES)('the build output of %s, as the image holds it', (service) => {
  const dist = path.join(ROOT, 'services', service, 'dist');
  const files = existsSync(dist) ? readdirSync(dist).filter((file) => file.endsWith('.js')) : [];
  const code = files.map((file) => readFileSync(path.join(dist, file), 'utf8')).join('\n');

  it('exists (npm run build)', () => {
    expect(files).toContain('server.js');
  });

  it('imports only production dependencies of the service (what `npm ci --omit=dev` installs)', () => {
    const allowed = productionDependencies(path.join(ROOT, 'services', service));
    const specifiers = [...code.matchAll(/(?:from|import)\s*\(?\s*"([@a-z][^"\s$]*)"/g)].map((m) => m[1]!);
    const builtins = new Set(builtinModules);
    const packages = new Set(
      specifiers
        .filter((s) => !s.startsWith('node:') && !builtins.has(s.split('/')[0]!))
        .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!)),
    );
    expect(packages.size).toBeGreaterThan(0);
    for (const name of packages) expect(allowed.has(name), `${service} imports ${name}`).toBe(true);
  });

  it('reads files only from inside services/<service>/ (the one folder of the repository the image has)', () => {
    const references = [
      ...code.matchAll(/__sourceDir\(import\.meta\.dirname, "([^"]+)"\)/g),
      ...code.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g),
    ].map((m) => path.resolve(dist, m[1]!));
    for (const reference of references) {
      expect(path.relative(path.join(ROOT, 'services', service), reference)).not.toMatch(/^\.\./);
    }
  });
});
