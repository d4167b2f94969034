// Locations in the repository that the cluster tests use.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const REPO_ROOT = resolve(here, '../../../..');
export const HACK_DIR = resolve(REPO_ROOT, 'hack');
export const CRDS_DIR = resolve(REPO_ROOT, 'crds');
export const CONFIG_DIR = resolve(REPO_ROOT, 'config');
export const SAMPLES_DIR = resolve(CONFIG_DIR, 'samples');
export const OPERATOR_ENTRY = resolve(REPO_ROOT, 'operator/dist/index.js');
