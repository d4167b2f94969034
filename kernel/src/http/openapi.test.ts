import type { Express } from 'express';
import pino from 'pino';
import { loadConfig } from '../config.js';
import { createHttpApp } from './app.js';
import type { HttpContext } from './context.js';
import { MAX_TOOLS, parsePanelDefinition } from '../panels/definition.js';
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

describe('the example definition', () => {
  it('is one the validator accepts, on POST /panels and PUT /panels/{id} alike', () => {
    const document = openApiDocument('x', { auth: false, maxTimeoutMs: 5000 });
    const examples = [document.paths['/panels'].post, document.paths['/panels/{id}'].put].map(
      (operation) => operation.requestBody.content['application/json'].example,
    );
    expect(examples[1]).toEqual(examples[0]);
    expect(() => parsePanelDefinition(examples[0], { maxTimeoutMs: 5000, extensions: [] })).not.toThrow();
  });
});

describe("the panel definition's bounds the validator checks in code", () => {
  it("states the tool count and this kernel's TIMEOUT_MS", () => {
    const definition = openApiDocument('x', { auth: false, maxTimeoutMs: 1234 }).components.schemas
      .PanelDefinition as {
      properties: {
        tools: { maxProperties: number; additionalProperties: { properties: { timeoutMs: object } } };
        lifecycle: { properties: Record<string, { properties: { timeoutMs: object } }> };
      };
    };
    expect(definition.properties.tools.maxProperties).toBe(MAX_TOOLS);
    expect(definition.properties.tools.additionalProperties.properties.timeoutMs).toMatchObject({
      minimum: 1,
      maximum: 1234,
    });
    for (const handler of ['mount', 'unmount', 'upgrade']) {
      expect(definition.properties.lifecycle.properties[handler]!.properties.timeoutMs).toMatchObject({
        maximum: 1234,
      });
    }
  });
});

describe('OpenAPI links and headers', () => {
  type Operation = {
    operationId?: string;
    parameters?: { name: string }[];
    responses: Record<string, { headers?: Record<string, unknown>; links?: Record<string, Link> }>;
  };
  type Link = { operationId: string; parameters?: Record<string, string> };
  const document = openApiDocument('x', { auth: true });
  const operations = Object.values(document.paths).flatMap((item) => {
    const shared = (item as { parameters?: { name: string }[] }).parameters ?? [];
    return Object.entries(item as Record<string, unknown>)
      .filter(([key]) => ['get', 'post', 'put', 'patch', 'delete'].includes(key))
      .map(([, operation]) => ({
        ...(operation as Operation),
        parameters: [...shared, ...((operation as Operation).parameters ?? [])],
      }));
  });
  const byId = new Map(operations.map((operation) => [operation.operationId, operation]));

  it('gives every operation a distinct operationId', () => {
    expect(byId.size).toBe(operations.length);
    expect(byId.has(undefined)).toBe(false);
  });

  it("links a created panel's id to its routes, the trigger route included", () => {
    const links = (document.paths['/panels'].post.responses['201'] as { links: Record<string, Link> }).links;
    const targets = Object.values(links).map((link) => link.operationId);
    expect(targets).toEqual(
      expect.arrayContaining(['getPanel', 'getPanelState', 'triggerTool', 'deletePanel']),
    );
    expect(links.TriggerTool!.parameters).toEqual({ id: '$response.body#/id' });
  });

  it('links only to operations that exist, with parameters they declare', () => {
    for (const operation of operations) {
      for (const response of Object.values(operation.responses)) {
        for (const link of Object.values(response.links ?? {})) {
          const target = byId.get(link.operationId);
          expect(target).toBeDefined();
          const declared = (target!.parameters ?? []).map((parameter) => parameter.name);
          // A name may say where the parameter is: `header.If-Match`.
          for (const name of Object.keys(link.parameters ?? {})) {
            expect(declared).toContain(name.replace(/^(path|query|header|cookie)\./, ''));
          }
        }
      }
    }
  });

  it('says every 429 and 503 carries Retry-After, as errors.ts sends them', () => {
    let seen = 0;
    for (const operation of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (status !== '429' && status !== '503') continue;
        expect(response.headers).toHaveProperty('Retry-After');
        seen += 1;
      }
    }
    expect(seen).toBeGreaterThanOrEqual(operations.length);
  });

  it('declares the bearer scheme only when auth is on', () => {
    expect(document.components).toHaveProperty('securitySchemes');
    expect(openApiDocument('x', { auth: false }).components).not.toHaveProperty('securitySchemes');
  });
});
