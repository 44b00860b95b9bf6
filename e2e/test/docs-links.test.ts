/**
 * Every relative link in every tracked Markdown file resolves to a file or
 * folder of the repository (a clone has nothing outside it), and none leads
 * out of the repository.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');

/** Link targets of a Markdown text: inline links and images, reference definitions, <img src>. Code is skipped. */
export function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1]!);
  for (const m of prose.matchAll(/<img\s[^>]*src="([^"]+)"/g)) targets.push(m[1]!);
  return targets;
}

const isRelative = (target: string) => !/^([a-z][a-z0-9+.-]*:|#|\/)/i.test(target);

describe('Markdown links', () => {
  it('finds links in prose and skips code', () => {
    expect(
      linkTargets('see [a](b.md#x) and ![i](img/p.png "t")\n```\n[no](c.md)\n```\n`[no](d.md)`\n[r]: ./e.md'),
    ).toEqual(['b.md#x', 'img/p.png', './e.md']);
  });

  it('every relative link of every tracked .md resolves inside the repository', async () => {
    const { stdout } = await promisify(execFile)('git', ['ls-files', '*.md'], { cwd: root });
    const files = stdout.split('\n').filter(Boolean);
    expect(files.length).toBeGreaterThan(10);
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      const full = path.join(root, file);
      if (!existsSync(full)) continue; // deleted in the working tree, not yet committed
      for (const target of linkTargets(readFileSync(full, 'utf8'))) {
        if (!isRelative(target)) continue;
        checked++;
        const resolved = path.resolve(path.dirname(full), decodeURIComponent(target.split(/[#?]/)[0]!));
        if (!resolved.startsWith(`${root}${path.sep}`) && resolved !== root) {
          broken.push(`${file}: ${target} (outside the repository)`);
        } else if (!existsSync(resolved)) {
          broken.push(`${file}: ${target}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });
});
