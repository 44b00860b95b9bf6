#!/usr/bin/env node
/**
 * `npm run build`: each service (and `npm start`'s dev stack) bundled by esbuild
 * into its own dist/, one ES module per entry point, with source maps. The
 * workspace packages (@tollgate/*, TypeScript sources) are bundled in; every
 * other dependency stays an import of node_modules, installed as the lockfile
 * pins it. Then AdminJS's component bundle is built once, here, so production
 * never runs a bundler. Why esbuild and not tsc: architecture/decisions/0020-production-build.md.
 *
 *   npm run build                 every target
 *   npm run build -- auth         one (auth, billing, stripe-emulator, dev)
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(fileURLToPath(import.meta.url), '..', '..');

/** Output names are flat (dist/<name>.js) so every file of a target sits at the same depth. */
export const TARGETS = {
  auth: {
    dir: 'services/auth',
    entries: {
      server: 'src/server.ts',
      migrate: 'src/cli/migrate.ts',
      'create-superuser': 'src/cli/create-superuser.ts',
      'rotate-keys': 'src/cli/rotate-keys.ts',
    },
  },
  billing: {
    dir: 'services/billing',
    entries: {
      server: 'src/server.ts',
      worker: 'src/worker.ts',
      migrate: 'src/cli/migrate.ts',
      'replay-webhook': 'src/cli/replay-webhook.ts',
      'sync-stripe': 'src/cli/sync-stripe.ts',
      'build-admin': 'src/admin/build-bundle.ts',
    },
    after: buildAdminBundle,
  },
  'stripe-emulator': {
    dir: 'services/stripe-emulator',
    entries: { server: 'src/server.ts', 'seed-stripe': 'src/scripts/seed-stripe.ts' },
  },
  dev: { dir: 'dev', entries: { start: 'src/start.ts' } },
};

/**
 * Prisma's generated client (engineType "client") loads its query compiler,
 * 1.9 MB of WebAssembly, from a JavaScript module holding it as a 2.6 MB
 * base64 string, which V8 then keeps twice (the module's source and the
 * string) for the life of the process: about 10 MB of RSS per process. The
 * build writes the decoded module beside the output once, and the client
 * compiles it from that file instead.
 */
const WASM_FILE = 'query_compiler_bg.postgresql.wasm';
const WASM_FROM_BASE64 = `const { wasm } = await import("@prisma/client/runtime/query_compiler_bg.postgresql.wasm-base64.mjs")
    return await decodeBase64AsWasm(wasm)`;
const WASM_FROM_FILE = `const { readFile } = await import('node:fs/promises')
    return new WebAssembly.Module(await readFile(new URL('./${WASM_FILE}', import.meta.url)))`;

async function writeQueryCompilerWasm(dir, outdir) {
  const { createRequire } = await import('node:module');
  const resolved = createRequire(path.join(dir, 'package.json')).resolve(
    '@prisma/client/runtime/query_compiler_bg.postgresql.wasm-base64.mjs',
  );
  const { wasm } = await import(resolved);
  await mkdir(outdir, { recursive: true });
  await writeFile(path.join(outdir, WASM_FILE), Buffer.from(wasm, 'base64'));
}

/** Bare imports other than the workspace's own packages stay imports of node_modules. */
const externalDependencies = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@tollgate/') || args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * Sources find their files (migrations, assets, the seed catalogue) next to
 * themselves through import.meta.dirname / import.meta.url. Bundled, that
 * would be dist/; rewritten here to the source file's own directory, seen
 * from dist/, so the same relative paths work from the build output.
 */
function sourceRelativePaths(outdir) {
  return {
    name: 'source-relative-paths',
    setup(b) {
      b.onLoad({ filter: /\.tsx?$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        let contents = await readFile(args.path, 'utf8');
        const loader = args.path.endsWith('x') ? 'tsx' : 'ts';
        const posix = (p) => p.split(path.sep).join('/');
        const dir = posix(path.relative(outdir, path.dirname(args.path))) || '.';
        const file = posix(path.relative(outdir, args.path));
        if (/generated[/\\]prisma[/\\]internal[/\\]class\.ts$/.test(args.path)) {
          // A Prisma upgrade that changes this code must not silently bring the base64 back.
          if (!contents.includes(WASM_FROM_BASE64))
            throw new Error(`${args.path}: Prisma's query compiler loading changed; update tools/build.mjs`);
          contents = contents.replace(WASM_FROM_BASE64, WASM_FROM_FILE);
          return { contents, loader };
        }
        if (!contents.includes('import.meta.')) return { contents, loader };
        contents = contents
          .replaceAll('import.meta.dirname', `__sourceDir(import.meta.dirname, ${JSON.stringify(dir)})`)
          .replace(/import\.meta\.url\b/g, `new URL(${JSON.stringify(file)}, import.meta.url).href`);
        contents += '\nimport { join as __sourceDir } from "node:path";\n';
        return { contents, loader };
      });
    },
  };
}

async function buildTarget(name) {
  const target = TARGETS[name];
  if (!target) throw new Error(`unknown target ${name}: one of ${Object.keys(TARGETS).join(', ')}`);
  const dir = path.join(root, target.dir);
  const outdir = path.join(dir, 'dist');
  const started = performance.now();
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: dir,
    entryPoints: target.entries,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Dynamic imports (lazy modules) become chunks beside the entry points.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
    // Code that must know it runs from the build (billing's prebuilt AdminJS bundle) reads this.
    define: { 'process.env.TOLLGATE_BUILD': '"dist"' },
    tsconfig: path.join(dir, 'tsconfig.json'),
    plugins: [externalDependencies, sourceRelativePaths(outdir)],
  });
  await asciiOnly(
    Object.keys(result.metafile.outputs)
      .filter((file) => file.endsWith('.js'))
      .map((file) => path.join(dir, file)),
  );
  if (Object.keys(result.metafile.inputs).some((file) => file.includes('generated/prisma/')))
    await writeQueryCompilerWasm(dir, outdir);
  await target.after?.(dir, outdir);
  const outputs = Object.entries(result.metafile.outputs);
  const js = outputs.filter(([file]) => file.endsWith('.js')).reduce((sum, [, o]) => sum + o.bytes, 0);
  const maps = outputs.filter(([file]) => file.endsWith('.map')).reduce((sum, [, o]) => sum + o.bytes, 0);
  const ms = Math.round(performance.now() - started);
  console.log(
    `built ${target.dir}/dist in ${ms} ms: ${(js / 1024).toFixed(0)} KiB of JavaScript, ${(maps / 1024).toFixed(0)} KiB of source maps`,
  );
}

/**
 * V8 keeps each module's source for the life of the process, one byte per
 * character only if every character is Latin-1; one "…" in a comment makes
 * the whole chunk two bytes per character (dev/dist's largest chunk: 0.75 MB
 * more heap). esbuild escapes everything outside comments already
 * (charset "ascii"); what is left is comments, where an escape reads as well.
 */
async function asciiOnly(files) {
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    if (!/[\u0080-\uffff]/.test(text)) continue;
    const escaped = text.replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    await writeFile(file, escaped);
  }
}

/** AdminJS's bundle of billing's React components, made once here instead of at every start. */
async function buildAdminBundle(dir, outdir) {
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(process.execPath, [path.join(outdir, 'build-admin.js')], {
    cwd: dir,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production', ADMIN_JS_TMP_DIR: path.join(outdir, 'adminjs') },
  });
  if (run.status !== 0) throw new Error('the AdminJS component bundle failed');
  await stat(path.join(outdir, 'adminjs', 'bundle.js'));
}

const names = process.argv.slice(2).filter((arg) => arg !== '--');
for (const name of names.length > 0 ? names : Object.keys(TARGETS)) await buildTarget(name);
