import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..', '..');
const SHARED = join(ROOT, 'shared');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The folder of `shared/` a file belongs to (`plans`, `store`, …). A file directly in `shared/` is a node of its
 * own: `errors.ts` and `config.ts` sit under everything, `deps.ts` (the wiring) above everything.
 */
function folderOf(file: string): string {
  const rel = relative(SHARED, file).split(sep);
  return rel.length > 1 ? (rel[0] ?? '') : (rel[0] ?? '').replace(/\.ts$/, '');
}

/** Folder → folders it imports (runtime and type imports alike: a cycle of either kind is a tangle). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of filesUnder(SHARED)) {
    const from = folderOf(file);
    const deps = graph.get(from) ?? new Set<string>();
    graph.set(from, deps);
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), m[1] ?? '');
      if (!target.startsWith(SHARED)) {
        deps.add(`outside:${relative(ROOT, target)}`);
        continue;
      }
      const to = folderOf(`${target}.ts`);
      if (to !== from) {
        deps.add(to);
      }
    }
  }
  return graph;
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') {
      return undefined;
    }
    if (state.get(node) === 'visiting') {
      return [...stack.slice(stack.indexOf(node)), node];
    }
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) {
        return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) {
      return cycle;
    }
  }
  return undefined;
}

describe('the folders of shared/', () => {
  it('import each other without cycles, so each layer can be read (and changed) on its own', () => {
    expect(findCycle(folderGraph())).toBeUndefined();
  });

  it('never import dev/ or test/ (and functions/ never the other way round)', () => {
    const outside = [...folderGraph().values()].flatMap((deps) => [...deps].filter((d) => d.startsWith('outside:')));
    expect(outside).toEqual([]);
  });

  it('keep the engine below its planners: plans/ imports no planner folder', () => {
    const plans = folderGraph().get('plans') ?? new Set();
    expect([...plans].filter((d) => ['containment', 'lifecycle', 'responder', 'console', 'teams'].includes(d))).toEqual([]);
  });
});
