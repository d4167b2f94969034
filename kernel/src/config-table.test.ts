import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as table from './config-table.js';

const kernelDir = fileURLToPath(new URL('../', import.meta.url));
const published = `${kernelDir}published/`;
const HEADER =
  '// Generated from kernel/src/ by the TypeScript compiler (kernel/src/config-table.test.ts, which\n' +
  '// fails while this file differs): edit the source, then run\n' +
  '//   cd kernel && NEXUS_WRITE_CONFIG_TABLE=1 node --experimental-vm-modules ../node_modules/jest/bin/jest.js config-table\n';

/**
 * kernel/src/config-table.ts and the kernel modules it imports, compiled as the kernel's build
 * compiles them: each file's path below kernel/published/ and its text.
 */
function compileTable(): Map<string, string> {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    `${kernelDir}tsconfig.build.json`,
    { sourceMap: false, declarationMap: false, outDir: published },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  )!;
  const program = ts.createProgram([`${kernelDir}src/config-table.ts`], parsed.options);
  const out = new Map<string, string>();
  program.emit(undefined, (file, text) => out.set(relative(published, file), HEADER + text));
  return out;
}

/** The files below kernel/published/ now. */
function committedFiles(dir = published): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? committedFiles(join(dir, entry.name))
      : [relative(published, join(dir, entry.name))],
  );
}

describe('@nexus/kernel/config-table', () => {
  it('is the current compilation of kernel/src/config-table.ts (the operator reads it)', () => {
    const compiled = compileTable();
    expect([...compiled.keys()].sort()).toEqual([
      'config-table.d.ts',
      'config-table.js',
      'extensions/address.d.ts',
      'extensions/address.js',
      'extensions/allowlist.d.ts',
      'extensions/allowlist.js',
    ]);
    if (process.env.NEXUS_WRITE_CONFIG_TABLE) {
      rmSync(published, { recursive: true, force: true });
      for (const [file, text] of compiled) {
        mkdirSync(dirname(join(published, file)), { recursive: true });
        writeFileSync(join(published, file), text);
      }
    }
    const committed = new Map(
      (existsSync(published) ? committedFiles() : []).map((file) => [
        file,
        readFileSync(join(published, file), 'utf8'),
      ]),
    );
    expect(committed).toEqual(compiled);
  });

  it('publishes the table the kernel reads', async () => {
    const published = await import('@nexus/kernel/config-table');
    expect(JSON.stringify(published.variables)).toBe(JSON.stringify(table.variables));
    expect(published.VARIABLE_NAMES).toEqual(Object.keys(table.variables));
    expect(published.DEFAULT_MAX_PANELS).toEqual(table.DEFAULT_MAX_PANELS);
    expect(published.SHUTDOWN_DRAIN_MS).toBe(table.SHUTDOWN_DRAIN_MS);
  });

  it('describes every variable, with bounds that hold their default', () => {
    for (const [name, variable] of Object.entries(table.variables)) {
      expect({ name, described: variable.description.length > 0 }).toEqual({ name, described: true });
      if (variable.kind === 'integer' && variable.default !== undefined) {
        expect({
          name,
          min: variable.min <= variable.default,
          max: variable.default <= variable.max,
        }).toEqual({
          name,
          min: true,
          max: true,
        });
      }
    }
  });
});

describe('parseStoreUrl', () => {
  it('reads host, port, TLS and database', () => {
    expect(table.parseStoreUrl('redis://:pw@redis.internal:6380/2')).toEqual({
      host: 'redis.internal',
      port: 6380,
      tls: false,
      database: 2,
    });
    expect(table.parseStoreUrl('rediss://user:pw@redis.internal')).toEqual({
      host: 'redis.internal',
      port: 6379,
      tls: true,
      database: 0,
    });
  });

  it.each([
    ['not a url', 'is not a URL'],
    ['http://redis.internal', 'has scheme "http"; redis or rediss is expected'],
    ['redis://:secret@redis.internal/cache', 'has path "/cache"; only a database number may follow the host'],
  ])('refuses %s without repeating it', (url, problem) => {
    expect(table.parseStoreUrl(url)).toBe(problem);
  });
});
