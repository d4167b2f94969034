import yaml from 'js-yaml';
import { buildCrd } from './crd.js';

export const GENERATED_HEADER =
  '# Generated from operator/src/api/schema.ts by `make generate-crd`. Do not edit by hand.\n';

export function renderCrdYaml(): string {
  return GENERATED_HEADER + yaml.dump(buildCrd(), { lineWidth: 120, noRefs: true, quotingType: '"' });
}
