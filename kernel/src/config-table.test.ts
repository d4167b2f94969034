import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as table from './config-table.js';

const kernelDir = fileURLToPath(new URL('../', import.meta.url));
const HEADER =
  '// Generated from kernel/src/config-table.ts by the TypeScript compiler (kernel/src/config-table.test.ts,\n' +
  '// which fails while this file differs): edit that file, then run\n' +
  '//   cd kernel && NEXUS_WRITE_CONFIG_TABLE=1 node --experimental-vm-modules ../node_modules/jest/bin/jest.js config-table\n';

/** kernel/src/config-table.ts compiled as the kernel's build compiles it: the JavaScript and its types. */
function compileTable(): Record<'config-table.js' | 'config-table.d.ts', string> {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    `${kernelDir}tsconfig.build.json`,
    { sourceMap: false, declarationMap: false, outDir: `${kernelDir}out` },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  )!;
  const source = `${kernelDir}src/config-table.ts`;
  const program = ts.createProgram([source], parsed.options);
  const out: Record<string, string> = {};
  program.emit(program.getSourceFile(source), (file, text) => {
    out[file.slice(file.lastIndexOf('/') + 1)] = HEADER + text;
  });
  return { 'config-table.js': out['config-table.js']!, 'config-table.d.ts': out['config-table.d.ts']! };
}

describe('@nexus/kernel/config-table', () => {
  it('is the current compilation of kernel/src/config-table.ts (the operator reads it)', () => {
    for (const [file, compiled] of Object.entries(compileTable())) {
      const path = `${kernelDir}${file}`;
      if (process.env.NEXUS_WRITE_CONFIG_TABLE) writeFileSync(path, compiled);
      let committed = '';
      try {
        committed = readFileSync(path, 'utf8');
      } catch {
        // Compared below: a missing file is stale too.
      }
      expect({ file, text: committed }).toEqual({ file, text: compiled });
    }
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
