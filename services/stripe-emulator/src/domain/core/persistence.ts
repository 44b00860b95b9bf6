/** Optional state file: loaded at start, rewritten (atomically, debounced) after changes. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { PersistedState, Store } from './store.js';

export class StateFile {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly store: Store,
    private readonly debounceMs = 200,
  ) {}

  /** True when a saved state was found and loaded. */
  load(): boolean {
    if (!existsSync(this.path)) return false;
    const state = JSON.parse(readFileSync(this.path, 'utf8')) as PersistedState;
    if (state.version !== 1) throw new Error(`Unsupported state file version in ${this.path}`);
    this.store.load(state);
    return true;
  }

  scheduleSave(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.save();
    }, this.debounceMs);
    this.timer.unref();
  }

  save(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.store.toJSON()));
    renameSync(tmp, this.path);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.save();
  }
}
