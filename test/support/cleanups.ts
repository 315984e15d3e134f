import { after } from "node:test";

export type Cleanup = () => Promise<void>;

/**
 * The teardowns of one test file: push to the returned list as resources are made; node:test's `after()` runs
 * them last-made first, each one even when an earlier one failed.
 */
export function cleanupsAfterAll(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  after(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  return cleanups;
}
