import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

/**
 * Transpile a TypeScript entry file and every module it reaches by relative import into plain
 * JavaScript under outDir (same relative layout, node_modules linked), so that a child process
 * starts with plain `node` in a fraction of the time tsx needs. Type checking is tsc's job, not this.
 */
export async function transpileForChild(root: string, entry: string, outDir: string): Promise<string> {
  const seen = new Set<string>();
  const queue = [path.resolve(root, entry)];
  const importRe = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(importRe)) {
      const spec = m[1] ?? m[2]!;
      queue.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    }
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false, sourceMap: false },
    });
    const dest = path.join(outDir, path.relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, out.outputText);
  }
  await writeFile(path.join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(path.join(root, 'node_modules'), path.join(outDir, 'node_modules'), 'dir').catch(() => undefined);
  return path.join(outDir, entry.replace(/\.ts$/, '.js'));
}
