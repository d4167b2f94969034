import type { Express } from 'express';
import pino from 'pino';
import { loadConfig } from '../config.js';
import { createHttpApp } from './app.js';
import type { HttpContext } from './context.js';
import { openApiDocument } from './openapi.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every "METHOD /path" the Express app serves, with :params written as OpenAPI {params}. */
function servedRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: Layer[]): void => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
        for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes.sort();
}

describe('OpenAPI document', () => {
  // Building the app only registers routes; none of the runtime parts is called.
  const context = { config: loadConfig({}), logger: pino({ level: 'silent' }) } as unknown as HttpContext;

  it('lists exactly the routes the app serves', () => {
    const document = openApiDocument('0.0.0-test');
    const documented = Object.entries(document.paths)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((key) => ['get', 'post', 'put', 'patch', 'delete'].includes(key))
          .map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(servedRoutes(createHttpApp(context)));
    expect(documented.length).toBeGreaterThanOrEqual(10);
  });

  it('declares every path parameter it uses', () => {
    for (const [path, item] of Object.entries(openApiDocument('x').paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const declared = ((item as { parameters?: { name: string }[] }).parameters ?? []).map(
        (parameter) => parameter.name,
      );
      expect(declared.sort()).toEqual(names.sort());
    }
  });

  it('describes authentication as the kernel runs it', () => {
    const off = openApiDocument('x', { auth: false });
    expect(off).not.toHaveProperty('security');
    const on = openApiDocument('x', { auth: true });
    expect(on.security).toEqual([{ bearer: [] }]);
    for (const [document, expected] of [
      [off, false],
      [on, true],
    ] as const) {
      const responses = document.paths['/panels'].post.responses as Record<string, unknown>;
      expect('401' in responses).toBe(expected);
      expect('421' in responses).toBe(true);
    }
  });

  it('gives the panel definition the validator accepts: non-empty handlers, the capability grammar', () => {
    const definition = openApiDocument('x').components.schemas.PanelDefinition as {
      properties: {
        tools: { additionalProperties: { properties: Record<string, Record<string, unknown>> } };
      };
    };
    const tool = definition.properties.tools.additionalProperties.properties;
    expect(tool.handler).toMatchObject({ type: 'string', minLength: 1 });
    const capability = (tool.capabilities as { items: { pattern: string } }).items.pattern;
    const grammar = new RegExp(capability);
    expect(grammar.test('state:read:count')).toBe(true);
    expect(grammar.test('events:emit:*')).toBe(true);
    expect(grammar.test('state:count')).toBe(false);
  });
});
